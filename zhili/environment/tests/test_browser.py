"""Browser test in headless Chromium: the environment dashboard, the IOC screen and the dust map
draw from their JSON endpoints under the strict-CSP rules (no inline scripts)."""

import datetime as dt
import threading
from pathlib import Path

import pytest
from django.utils import timezone
from shapely.geometry import box

from zhili.environment.models import DailyAQI
from zhili.environment.tests.factories import make_device, make_site
from zhili.iot import store

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
def data(transactional_db, django_user_model):
    from zhili.iot.catalog import seed_metrics
    from zhili.iot.models import Metric

    # a transactional test database is flushed between tests: the migration's metrics may be gone
    seed_metrics(Metric)
    store.metrics.invalidate()
    django_user_model.objects.create_superuser("env_browser", password="Zhili-Test-2026!")
    station = make_device(lon=119.942, lat=30.2415)
    make_site(geometry=box(119.940, 30.240, 119.944, 30.243))
    now = timezone.now()
    store.write_readings([(station.pk, m, now, v) for m, v in {"pm25": 80, "pm10": 90, "o3": 60}.items()])
    today = timezone.localdate()
    DailyAQI.objects.bulk_create(
        [
            DailyAQI(date=today - dt.timedelta(days=d), aqi=40 + d, computed_aqi=40 + d, level=1)
            for d in range(1, 8)
        ]
    )
    return station


@pytest.mark.req("R-0-ioc", "R-5.1.3", "R-5.1.5")
def test_dashboard_ioc_and_dust_map_draw(live_server, data):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live_server.url}/")
        page.fill("#id_username", "env_browser")
        page.fill("#id_password", "Zhili-Test-2026!")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/environment/")
        page.wait_for_selector("#env-dashboard[data-loaded=true]")
        assert page.locator('[data-chart="gauge"] canvas').count() == 1
        assert page.inner_text('[data-field="category"]') == "轻度污染"  # PM2.5 80 → IAQI 119
        assert page.locator('[data-table="stations"] tr').count() == 1
        page.goto(f"{live_server.url}/environment/ioc/")
        page.wait_for_selector("#env-ioc[data-loaded=true]")
        page.wait_for_selector("#env-ioc[data-devices]")
        assert page.get_attribute("#env-ioc", "data-devices") == "1"

        # an alarm raised while the screen is open appears without reload (IoT SSE stream)
        def raise_alarm():  # the ORM may not run inside Playwright's event loop: use a thread
            from django.db import connection

            from zhili.iot.models import Alarm, Metric, Rule

            rule = Rule.objects.create(
                code="env-browser",
                name="PM2.5",
                kind="threshold",
                metric=Metric.objects.get(code="pm25"),
                params={"op": ">", "value": 75},
            )
            Alarm.objects.create(
                device=data, rule=rule, severity="major", message="PM2.5 80 above 75", value=80
            )
            connection.close()

        worker = threading.Thread(target=raise_alarm)
        worker.start()
        worker.join()
        page.wait_for_selector("[data-list=alarms] li.sev-major", timeout=15000)
        assert "PM2.5 80 above 75" in page.inner_text("[data-list=alarms]")
        page.goto(f"{live_server.url}/environment/dust/")
        page.wait_for_selector("#dust-map[data-cells]")
        assert int(page.get_attribute("#dust-map", "data-cells")) > 0
        page.click("#dust-map", position={"x": 300, "y": 200})
        page.wait_for_selector("#dust-why table")
        assert "Distance" in page.inner_text("#dust-why") or "距" in page.inner_text("#dust-why")
        browser.close()
    assert errors == []
