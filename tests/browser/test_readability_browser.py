"""What a person reads, measured in a real headless Chromium (issue 32: dark mode, phones).

- Dark mode: the comparison line ("previous period"), the green and red arrows, the empty and
  full heat-map cells and the P(alive) chart's axis labels keep WCAG's 4.5:1 contrast against
  what is behind them.
- The 360° page at 390 px: no number or date is broken over two lines, and the page never
  scrolls sideways.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from customers.models import Customer
from insights.rebuild import insights_rebuild
from tests.browser.seed import seed_dashboard
from tests.browser.test_dashboard_browser import CHROMIUM, LAUNCH_ARGS, _playwright
from tests.factories import UserFactory

# WCAG 2 contrast of an element's text against the first opaque background behind it.
CONTRAST = """(selector) => {
  function rgb(value) { const m = value.match(/[\\d.]+/g) || []; return m.map(Number); }
  function lum(c) {
    const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }
  function background(node) {
    for (let n = node; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) { return c; }
    }
    return [255, 255, 255];
  }
  return Array.from(document.querySelectorAll(selector)).map((node) => {
    const fg = lum(rgb(getComputedStyle(node).color)), bg = lum(background(node));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    return {text: node.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100};
  });
}"""

# The P(alive) chart's tick colour against the page behind the canvas.
CHART_TICKS = """() => {
  const canvas = document.querySelector("canvas[data-value-chart]");
  if (!canvas || !window.Chart) { return null; }
  const chart = window.Chart.getChart(canvas);
  return chart ? chart.options.scales.x.ticks.color : null;
}"""

# Every number, amount, date or duration of the 360° page's tables (the cells marked `num`)
# whose text runs over more than one line.
BROKEN_WORDS = """() => Array.from(document.querySelectorAll(".insights-360 .num"))
  .filter((cell) => {
    const text = cell.innerText.trim();
    if (!text) { return false; }
    const line = parseFloat(getComputedStyle(cell).lineHeight) || 20;
    const range = document.createRange(); range.selectNodeContents(cell);
    const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
    const tops = new Set(rects.map((r) => Math.round(r.top)));
    return tops.size > 1 && rects.length > 1 && line > 0;
  }).map((cell) => cell.innerText.trim())"""


def _login(page, url: str) -> None:
    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "s3cret-pass")
    page.click("input[type=submit]")
    page.wait_for_url(f"{url}/admin/")


@pytest.fixture
def manager(db):
    user = UserFactory(username="manager", is_staff=True, password="s3cret-pass")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_insights", "view_customer"])
    )
    return user


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dark_mode_text_keeps_its_contrast(live_server, monkeypatch, manager):
    # given
    sync_playwright = _playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    seed_dashboard(today=timezone.localdate())
    insights_rebuild(trigger="browser-test")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1440, "height": 900}, color_scheme="dark"
            )
            page = context.new_page()
            _login(page, live_server.url)
            # when
            page.goto(f"{live_server.url}/admin/insights/dashboard/?preset=last_30_days")
            page.wait_for_load_state("networkidle")
            measured = {
                selector: page.evaluate(CONTRAST, selector)
                for selector in (
                    ".insights-previous",
                    ".insights-compare.tone-good",
                    ".insights-compare.tone-bad",
                    ".insights-compare.tone-neutral",
                    ".insights-grid td a",
                    ".insights-retention td",
                )
            }
            ticks = page.evaluate(CHART_TICKS)
            body_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        finally:
            browser.close()

    # then: every kind of element was on the page, and each reads at 4.5:1 or better
    for selector in (".insights-previous", ".insights-grid td a", ".insights-retention td"):
        assert measured[selector], f"no {selector} on the page"
    assert measured[".insights-compare.tone-good"] or measured[".insights-compare.tone-bad"]
    low = {s: [m for m in ms if m["ratio"] < 4.5] for s, ms in measured.items()}
    assert not any(low.values()), low
    # the dark theme is in force, and the value chart's ticks are not the light theme's
    assert body_bg not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    if ticks is not None:
        assert ticks.lower() not in ("#333", "#333333", "rgb(51, 51, 51)")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_360_page_on_a_phone_breaks_no_number(live_server, monkeypatch, manager):
    # given
    sync_playwright = _playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    seed_dashboard(today=timezone.localdate())
    insights_rebuild(trigger="browser-test")
    ani = Customer.objects.get(contacts__first_name="Ani")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            results = {}
            for width in (390, 1440):
                context = browser.new_context(viewport={"width": width, "height": 900})
                page = context.new_page()
                _login(page, live_server.url)
                # when
                page.goto(f"{live_server.url}/admin/insights/customer360/{ani.pk}/")
                page.wait_for_load_state("networkidle")
                results[width] = {
                    "broken": page.evaluate(BROKEN_WORDS),
                    "scroll": page.evaluate("document.documentElement.scrollWidth"),
                    "deals": page.locator(".insights-360 table.insights-deals tbody tr").count(),
                }
                context.close()
        finally:
            browser.close()

    # then
    for width, result in results.items():
        assert result["broken"] == [], (width, result["broken"])
        assert result["scroll"] <= width, (width, result["scroll"])
        assert result["deals"] > 0
