"""The officers' console in a real browser (Debian's chromium, headless, driven by Playwright)."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright

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
    case_id = f"IPR-{body['declaration_id']}~RH-0001"

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
        # without a token the console says what it needs
        await page.wait_for_selector("#message.error")
        await page.fill("#token", stack.secrets["OFFICER_API_TOKEN"])
        await page.click("#save-token")
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
        await browser.close()
    assert errors == []
    final = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))).json()
    assert final["state"] == "confiscated"
    determined = next(h for h in final["history"] if h["event"] == "customs_determined")
    assert determined["detail"]["fine_tier"] == "heavier" and determined["detail"]["officer"] == "officer"
