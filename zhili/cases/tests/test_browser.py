"""A resident on a phone reports a problem with a photo and follows the case by its link
(R-0-mobile, R-5.2.4), in headless Chromium against the live server."""

from pathlib import Path

import pytest

from zhili.cases.models import Case
from zhili.cases.tests.factories import ensure_categories, make_user
from zhili.cases.tests.test_open311 import PNG

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
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.mark.req("R-0-mobile", "R-5.2.4", "R-6-cases")
def test_resident_reports_with_photo_and_follows_by_link(
    live_server, transactional_db, browser, tmp_path, monkeypatch
):
    # Playwright's sync API runs an event loop in this thread; the ORM calls below are plain
    # synchronous test set-up and checks, not concurrent with it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ensure_categories()
    photo = tmp_path / "pothole.png"
    photo.write_bytes(PNG)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/cases/report/")
    page.select_option("#id_category", "city.road")
    page.fill("#id_description", "人民路中段路面塌陷，晚上很危险")
    page.set_input_files("#id_photos", str(photo))
    page.wait_for_selector("#pick-map .leaflet-tile-pane, #pick-map.leaflet-container")
    page.click("#pick-map", position={"x": 150, "y": 80})
    assert page.input_value("#id_longitude") and page.input_value("#id_latitude")
    page.fill("#id_phone", "13812345678")
    page.fill("#id_name", "王女士")
    page.click("button[type=submit]")
    page.wait_for_selector("#case-received")
    case = Case.objects.get()
    assert page.inner_text("#case-number") == case.number
    assert case.attachments.count() == 1 and case.point is not None and case.channel == "resident"
    follow_url = page.inner_text("#follow-url")
    assert "/cases/follow/" in follow_url
    page.wait_for_load_state("load")
    images = page.eval_on_selector_all(
        "main img", "imgs => imgs.map(i => [i.alt, i.complete && i.naturalWidth > 0])"
    )
    assert len(images) == 2 and all(ok for _alt, ok in images), images  # the photo and the QR code
    # staff handle it and feed back; the resident opens the link again later on another phone
    staff = make_user("browser_staff")
    from zhili.cases import services
    from zhili.orgs.tests.factories import make_department

    case = services.transition(case, "accept", staff)
    case = services.transition(case, "dispatch", staff, department=make_department())
    case = services.transition(case, "complete", staff, note="已回填修复")
    services.transition(case, "feedback", staff, note="路面已修复，感谢您的反映")
    other = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    other.goto(follow_url)
    assert "路面已修复" in other.inner_text("#case-feedback")
    other.check("input[name=rating][value='5']")
    other.check("input[name=resolved][value='1']")
    other.click("#rate-form button[type=submit]")
    other.wait_for_selector("text=5/5")
    case.refresh_from_db()
    assert case.rating == 5 and case.resolved is True
    width = other.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1  # no sideways scrolling on a phone
    assert errors == []
