"""Browser smoke test in headless Chromium: what a town official does first (R-0-mobile, R-0-elements)."""

import re
from pathlib import Path

import pytest

from zhili.people.tests.factories import make_resident
from zhili.places.tests.factories import make_building, make_grid

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
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


@pytest.fixture
def town(transactional_db, django_user_model):
    admin = django_user_model.objects.create_superuser("browser_admin", password="Zhili-Test-2026!")
    grid_a, grid_b = make_grid(), make_grid()
    make_building(grid=grid_a)
    make_resident(name="张晓燕", grid=grid_a)
    make_resident(name="李建国", grid=grid_b)
    return {"admin": admin, "grid_a": grid_a, "grid_b": grid_b}


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


def sign_in(page, base):
    page.goto(f"{base}/")
    page.fill("#id_username", "browser_admin")
    page.fill("#id_password", "Zhili-Test-2026!")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


@pytest.mark.req("R-0-elements", "R-11.1")
def test_sign_in_dashboard_map_list_filter_detail(live_server, town, browser):
    from playwright.sync_api import expect

    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url)
    page.wait_for_selector("#town-map[data-loaded=true]")
    assert int(page.get_attribute("#town-map", "data-features")) >= 2  # the grid and the building
    assert page.locator("#town-map canvas").count() >= 1
    page.click("a.nav-link[href='/people/resident/']")
    page.wait_for_selector("table.object-table")
    assert page.locator("table.object-table tbody tr").count() == 2
    page.select_option("#id_grid", str(town["grid_a"].pk))
    # A locator assertion, not wait_for_function: the page's CSP (script-src 'self') forbids eval.
    expect(page.locator("table.object-table tbody tr")).to_have_count(1)
    assert "张晓燕" in page.inner_text("table.object-table")
    assert re.search(r"grid=\d+", page.url)
    page.click("table.object-table tbody tr a")
    page.wait_for_selector("table.detail-table")
    assert "张晓燕" in page.inner_text("h1")
    assert errors == []


@pytest.mark.req("R-0-mobile")
def test_phone_width_menu(live_server, town, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, live_server.url)
    assert not page.is_visible("#sidebar a.nav-link[href='/people/resident/']")
    page.click("button[aria-controls=sidebar]")
    page.wait_for_selector("#sidebar a.nav-link[href='/people/resident/']", state="visible")
    page.click("#sidebar a.nav-link[href='/people/resident/']")
    page.wait_for_selector("table.object-table")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, "the page scrolls sideways at phone width"
