"""The officers' console in a real browser (Debian's chromium, headless, driven by Playwright): the officer signs
in on the platform's own sign-in page (authorization code + PKCE), works the case, and signs out."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright

from deploy.local.tokens import SignInFailed
from tests.factories import example_declaration
from tests.helpers import case_in_state, unique_id

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


async def test_officer_sees_the_case_and_records_the_determination(http, stack) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is required (make deps-test installs it)"
    body = example_declaration(declaration_id=unique_id("CN5300-UI"))
    assert (await http.post(f"{stack.url('intake')}/v1/declarations", json=body,
                            headers=stack.auth("clearance"))).status_code == 202
    case_id = f"IPR-{body['declaration_id']}-RH-0001"

    await case_in_state(http, stack, case_id, "suspended")
    notice = (await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))).json()[0]
    case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))).json()
    await http.post(f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply", headers=stack.auth("holder"),
                    json={"decision": "detain", "guarantee": {"amount": case["required_guarantee_cny"],
                                                              "currency": "CNY", "reference": "LG-UI"}})
    await case_in_state(http, stack, case_id, "detained")

    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await page.goto(f"{stack.url('cases')}/console")
        # the console sends the officer to the provider's sign-in page
        await page.wait_for_selector("#username")
        assert page.url.startswith(f"{stack.issuer}/interaction/")
        await page.fill("#username", "wang.wei")
        await page.fill("#password", "not the password")
        await page.click("#sign-in")
        assert "wrong password" in await page.inner_text("#error")
        await page.fill("#password", stack.password)
        await page.click("#sign-in")
        # (the provider's pages forbid scripts from elsewhere, so wait for the way back before looking)
        await page.wait_for_url(lambda url: url.startswith(f"{stack.url('cases')}/console"))
        await page.wait_for_function("document.querySelector('#who')?.textContent.includes('Wang Wei')")
        assert page.url == f"{stack.url('cases')}/console"  # the code is exchanged and gone from the address
        assert "CN5300" in await page.inner_text("#who")
        row = page.locator(f"tr.case-row[data-id='{case_id}']")
        await row.wait_for()
        assert "detained" in await row.inner_text()
        await row.click()
        await page.wait_for_selector("#determination-form")
        assert (await page.inner_text("#case-state")) == "detained"
        deadlines = await page.inner_text("#detail")
        assert "customs determination" in deadlines and "release ex officio" in deadlines
        await page.select_option("#outcome", "infringing")
        await page.select_option("#fine_tier", "heavier")
        await page.click("#determination-form button[type=submit]")
        await page.wait_for_selector("#message.ok")
        await page.wait_for_function("document.querySelector('#case-state')?.textContent === 'confiscated'",
                                     timeout=20_000)
        await page.screenshot(path=str(stack.profile.data / "console.png"))
        # sign out: the provider asks, ends the session, and the console needs a new sign-in
        await page.click("#sign-out")
        await page.click("#logout-yes")
        await page.wait_for_selector("#username")
        assert page.url.startswith(f"{stack.issuer}/interaction/")
        await browser.close()
    assert errors == []
    final = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))).json()
    assert final["state"] == "confiscated"
    determined = next(h for h in final["history"] if h["event"] == "customs_determined")
    assert determined["detail"]["fine_tier"] == "heavier"
    assert determined["detail"]["officer"] == "Wang Wei (wang.wei)"
    assert determined["detail"]["actor"] == {"sub": "wang.wei", "name": "Wang Wei", "role": "officer"}


async def test_administrator_disables_and_enables_an_account_on_the_page(http, stack) -> None:  # noqa: ANN001
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is required (make deps-test installs it)"
    account = unique_id("page").lower()
    stack.ensure_account(account, role="officer", display_name="Page Test Officer", offices=["CN5300"])
    errors: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        await page.goto(f"{stack.url('identity')}/admin")
        await page.wait_for_selector("#username")
        assert "登录" in await page.inner_text("h1")  # the browser asks for Chinese
        await page.fill("#username", "chen.jie")
        await page.fill("#password", stack.password)
        await page.click("#sign-in")
        await page.wait_for_url(lambda url: url.startswith(f"{stack.url('identity')}/admin"))
        await page.wait_for_function("document.querySelector('#who')?.textContent.includes('Chen Jie')")
        button = page.locator(f"button[data-kind=accounts][data-id='{account}']")
        await button.wait_for()
        assert await button.inner_text() == "Disable"
        await button.click()
        await page.wait_for_selector("#message.ok")
        await page.wait_for_function(
            f"document.querySelector(\"button[data-kind=accounts][data-id='{account}']\")?.textContent === 'Enable'")
        await page.screenshot(path=str(stack.profile.data / "admin.png"))
        await browser.close()
    assert errors == []
    audit = (await http.get(f"{stack.url('identity')}/v1/audit?target_id={account}",
                            headers=stack.auth("administrator"))).json()
    assert audit[0]["action"] == "account.disabled" and audit[0]["actor"] == {"sub": "chen.jie", "name": "Chen Jie"}
    with pytest.raises(SignInFailed, match="disabled"):
        stack.token(account)
