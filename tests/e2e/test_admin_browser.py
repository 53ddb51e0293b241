"""The administration page in a real browser (Debian's chromium, headless, driven by Playwright), signed in on the
platform's own sign-in page (authorization code + PKCE). The officers' console it once shared this file with is
retired: the workbench (tests/e2e/test_workbench_browser.py) took its place."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright

from deploy.local.tokens import SignInFailed
from tests.helpers import unique_id

pytestmark = pytest.mark.e2e

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def test_administrator_disables_and_enables_an_account_on_the_page(http, stack) -> None:
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
            f"document.querySelector(\"button[data-kind=accounts][data-id='{account}']\")?.textContent === 'Enable'"
        )
        await page.screenshot(path=str(stack.profile.data / "admin.png"))
        await browser.close()
    assert errors == []
    audit = (
        await http.get(f"{stack.url('identity')}/v1/audit?target_id={account}", headers=stack.auth("administrator"))
    ).json()
    assert audit[0]["action"] == "account.disabled" and audit[0]["actor"] == {"sub": "chen.jie", "name": "Chen Jie"}
    with pytest.raises(SignInFailed, match="disabled"):
        stack.token(account)
