"""Headless Chromium: sign-in with a TOTP second step, under the strict CSP (R-10.3-mfa, R-10.3-input)."""

import time
from pathlib import Path

import pyotp
import pytest

from zhili.accounts import twofactor

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def totp_admin(transactional_db, django_user_model):
    """Created before the browser starts: Django refuses ORM calls inside Playwright's event loop."""
    user = django_user_model.objects.create_superuser("totp_admin", password="Zhili-Test-2026!")
    device = twofactor.new_totp_device(user)
    device.confirmed = True
    device.save()
    return device


@pytest.mark.req("R-10.3-mfa", "R-10.3-input")
def test_sign_in_with_password_then_totp(live_server, totp_admin, browser):
    device = totp_admin
    page = browser.new_page()
    problems = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console", lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    base = live_server.url
    page.goto(f"{base}/people/resident/")
    page.fill("#id_username", "totp_admin")
    page.fill("#id_password", "Zhili-Test-2026!")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/accounts/login/verify/")
    assert page.locator("#id_code").is_visible()
    page.fill("#id_code", "000000")
    page.click("form button[type=submit]")
    assert "already used" in page.inner_text(".alert-danger") or page.locator(".alert-danger").count() == 1
    page.fill("#id_code", pyotp.TOTP(device.secret).at(time.time()))
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/people/resident/")
    page.wait_for_selector("table.object-table")
    # The API docs work under their policy too (Swagger UI initialised from a separate script).
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    assert problems == []


@pytest.mark.req("R-10.3-ident")
def test_captcha_picture_refreshes_on_click(live_server, transactional_db, browser):
    page = browser.new_page()
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    for attempt in range(2):  # the second failure brings the captcha
        page.fill("#id_username", "nobody")
        page.fill("#id_password", f"wrong-password-{attempt}")
        page.click("button[type=submit]")
        page.wait_for_selector("#login-error")
    page.wait_for_selector("#captcha-image")
    first = page.get_attribute("#captcha-image", "src")
    with page.expect_response(lambda r: "captcha.png" in r.url and r.status == 200):
        page.click("#captcha-image")
    assert page.get_attribute("#captcha-image", "src") != first
    width = 0
    for _ in range(20):  # the new picture decodes just after its response arrives
        width = page.evaluate("document.getElementById('captcha-image').naturalWidth")
        if width:
            break
        page.wait_for_timeout(100)
    assert width == 150
