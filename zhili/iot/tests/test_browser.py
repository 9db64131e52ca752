"""A town official watches the live alarm page: a new alarm appears without reload (R-0-ioc)."""

import time
from pathlib import Path

import pytest

from zhili.iot import store
from zhili.iot.tests.factories import make_device, make_rule

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.req("R-0-ioc", "R-5.3.2-monitor")
def test_alarm_appears_live_on_board_and_map(live_server, transactional_db, django_user_model, monkeypatch):
    from django.db import OperationalError
    from playwright.sync_api import expect, sync_playwright

    # Playwright's sync API runs an event loop in this thread; the writes below are plain sync code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    def write_reading(value):
        # The in-memory test database is shared between threads with table locks (no WAL): retry
        # when the server thread is reading at that instant.
        for _ in range(50):
            try:
                return store.write_readings([(device.pk, "pm25", store.now_ms(), value)])
            except OperationalError:
                time.sleep(0.05)
        raise AssertionError("database stayed locked")

    django_user_model.objects.create_superuser("live_admin", password="Zhili-Test-2026!")
    make_rule("threshold", params={"op": ">", "value": 75}, severity="critical")
    device = make_device(name="实时告警测试站")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" and "Content Security" in m.text else None,
        )
        page.goto(f"{live_server.url}/iot/alarms/live/")
        page.fill("#id_username", "live_admin")
        page.fill("#id_password", "Zhili-Test-2026!")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/iot/alarms/live/")
        expect(page.locator("#alarm-live-state")).to_have_class("badge text-bg-success", timeout=10_000)
        assert page.locator("#alarm-table tbody tr").count() == 0
        write_reading(180.0)  # what the ingest does with a message
        row = page.locator("#alarm-table tbody tr")
        expect(row).to_have_count(1, timeout=10_000)
        expect(row).to_contain_text("实时告警测试站")
        expect(row).to_contain_text("180")
        # The map redraws the device with its alarm.
        expect(page.locator("#alarm-map")).to_have_attribute("data-alarm-count", "1", timeout=10_000)
        # Acknowledge from the live row: the page reloads with the alarm acknowledged.
        row.get_by_role("button").first.click()
        page.wait_for_url(f"{live_server.url}/iot/alarms/live/")
        expect(page.locator("#alarm-table tbody tr .alarm-status")).to_have_count(1, timeout=10_000)
        assert errors == []
        browser.close()
