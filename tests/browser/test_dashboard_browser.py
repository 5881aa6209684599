"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright).

Seeds a small data set through the real pipeline, logs in through the admin login form, opens
the dashboard with two presets, checks that every chart drew with data and that the console
stayed clean, clicks an RFM segment bar through to the customer list, and saves a full-page
screenshot (a temporary file unless WAWASAN_SCREENSHOT names one).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.utils import timezone

from customers.models import Customer
from insights.rebuild import insights_rebuild
from tests.browser.seed import seed_dashboard
from tests.factories import UserFactory

CHROMIUM = Path("/usr/bin/chromium")
# The README's picture is taken from demo data by `make screenshot`; a test run must not dirty
# the work tree, so it writes to a temporary file unless told otherwise.
SCREENSHOT = Path(
    os.environ.get("WAWASAN_SCREENSHOT", Path(tempfile.gettempdir()) / "wawasan-dashboard.png")
)
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = (
    "growth",
    "source",
    "company",
    "country",
    "city",
    "association",
    "lost",
    "products",
    "segments",
    "lifecycle",
    "service",
)

# Every chart object, its first dataset's length and total; null when a canvas has no chart.
CHART_STATE = """() => Array.from(document.querySelectorAll("canvas[data-chart]")).map((c) => {
  const chart = window.Chart && window.Chart.getChart(c);
  if (!chart) { return {key: c.dataset.chart, drawn: false}; }
  const data = chart.data.datasets[0].data;
  return {key: c.dataset.chart, drawn: true, length: data.length,
          total: data.reduce((a, b) => a + b, 0), width: c.width, height: c.height};
})"""
ALL_DRAWN = """() => window.Chart && Array.from(document.querySelectorAll("canvas[data-chart]"))
  .every((c) => window.Chart.getChart(c))"""
# The middle of the first bar with customers on the (horizontal) segments chart, in page pixels.
SEGMENT_BAR = """() => {
  const canvas = document.getElementById("chart-segments");
  const chart = window.Chart.getChart(canvas);
  const data = chart.data.datasets[0].data;
  const index = data.findIndex((v) => v > 0);
  const bar = chart.getDatasetMeta(0).data[index].getProps(["x", "y", "base"], true);
  const box = canvas.getBoundingClientRect();
  return {label: chart.data.labels[index], x: box.left + window.scrollX + (bar.x + bar.base) / 2,
          y: box.top + window.scrollY + bar.y};
}"""


def _playwright():
    if not CHROMIUM.exists():
        if os.environ.get("WAWASAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and WAWASAN_REQUIRE_BROWSER=1")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("WAWASAN_REQUIRE_BROWSER") == "1":
            raise
        pytest.skip("playwright is not installed")
    return sync_playwright


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_in_a_real_browser(live_server, monkeypatch):
    # given
    sync_playwright = _playwright()
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    seed_dashboard(today=timezone.localdate())
    insights_rebuild(trigger="browser-test")
    user = UserFactory(username="manager", is_staff=True, password="s3cret-pass")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_insights", "run_rebuild", "view_customer"])
    )
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on(
                "console",
                lambda m: (
                    problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "manager")
            page.fill("#id_password", "s3cret-pass")
            page.click("input[type=submit]")
            page.wait_for_url(f"{live_server.url}/admin/")
            dashboard_link = '.app-insights a[href="/admin/insights/dashboard/"]'
            assert page.locator(dashboard_link).first.is_visible()

            # when: two presets (the console is checked from here: the login page is admin's)
            problems.clear()
            states = {}
            for preset in ("last_30_days", "last_90_days"):
                response = page.goto(f"{live_server.url}/admin/insights/dashboard/?preset={preset}")
                assert response is not None and response.status == 200
                page.wait_for_function(ALL_DRAWN)
                states[preset] = page.evaluate(CHART_STATE)

            # then: every chart drew with data, on both presets
            for preset, state in states.items():
                assert sorted(s["key"] for s in state) == sorted(CHARTS), preset
                for chart in state:
                    assert chart["drawn"], (preset, chart)
                    assert chart["length"] > 0 and chart["total"] > 0, (preset, chart)
                    assert chart["width"] > 0 and chart["height"] > 0, (preset, chart)

            assert problems == []
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert SCREENSHOT.stat().st_size > 10_000

            # when: click a segment bar
            target = page.evaluate(SEGMENT_BAR)
            page.evaluate(f"window.scrollTo(0, {target['y']} - 300)")
            scroll = page.evaluate("({x: window.scrollX, y: window.scrollY})")
            with page.expect_navigation() as navigation:
                page.mouse.click(target["x"] - scroll["x"], target["y"] - scroll["y"])

            # then: the customer list filtered to that segment of the period
            url = page.url
            assert url.startswith(f"{live_server.url}/admin/customers/customer/?segment=")
            assert f"segment={quote_plus(target['label'])}&rfm_start=" in url
            assert "&rfm_end=" in url
            if admin.site.is_registered(Customer):
                assert navigation.value.status == 200
                assert page.locator("#changelist").count() == 1

            # when: a customer's 360° page, in Bahasa Indonesia
            problems.clear()
            ani = Customer.objects.get(contacts__first_name="Ani")
            page.goto(f"{live_server.url}/admin/insights/customer360/{ani.pk}/")
            page.select_option("#id_language", "id")
            with page.expect_navigation():
                page.click(".insights-language button")
            page.wait_for_load_state()

            # then
            assert page.locator("html").get_attribute("lang") == "id"
            assert page.locator("#figure-lifetime-revenue .insights-value").inner_text() == (
                "Rp32.500.000"
            )
            assert problems == []
            if os.environ.get("WAWASAN_SCREENSHOT_360"):
                page.screenshot(path=os.environ["WAWASAN_SCREENSHOT_360"], full_page=True)
        finally:
            browser.close()

    assert SCREENSHOT.stat().st_size > 10_000
