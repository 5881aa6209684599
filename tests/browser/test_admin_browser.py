"""The admin as a sales manager meets it, in headless Chromium (Debian's, driven by Playwright).

One browser session, one seeded data set, to keep CI fast:
- the language switch on the login page and the index;
- the Indonesian dashboard without English UI strings;
- money without cents and without wrapping, at 1,440 and 390 px, and no sideways scroll;
- dark mode charts take the admin theme's colours (a screenshot kept in tmp/artifacts);
- no console error and no failed request (favicon included) on any page the index links;
- the 360° page's links open records and deals;
- the import page's dry run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from customers.models import Customer
from insights.rebuild import insights_rebuild
from tests.browser.seed import seed_dashboard
from tests.browser.test_dashboard_browser import ALL_DRAWN, CHROMIUM, LAUNCH_ARGS, _playwright
from tests.factories import UserFactory

ARTIFACTS = Path(
    os.environ.get("WAWASAN_ARTIFACTS", Path(__file__).resolve().parents[2] / "tmp" / "artifacts")
)
# English UI strings that must not remain on the Indonesian dashboard.
ENGLISH = (
    "Customer growth",
    "Total customers",
    "New customers",
    "Revenue",
    "Period",
    "Show",
    "Language",
    "Customers by source",
    "Lost reasons",
    "Top products",
    "Print / save as PDF",
    "Recompute now",
    "Unspecified",
    "View site",
    "Log out",
)
# Every money element: its text, how many lines it takes, and whether it fits its box.
MONEY = """() => Array.from(document.querySelectorAll(
    ".insights-money, #figure-lifetime-revenue .insights-value"))
  .map((el) => ({text: el.innerText, lines: el.getClientRects().length,
                 height: el.getBoundingClientRect().height,
                 lineHeight: parseFloat(getComputedStyle(el).lineHeight) || 30,
                 overflows: el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0}))"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
THEME = """() => ({chart: window.Chart.defaults.color,
  fg: getComputedStyle(document.documentElement).getPropertyValue("--body-fg").trim(),
  bg: getComputedStyle(document.body).backgroundColor})"""


def _rgb(colour: str) -> tuple[int, ...]:
    """'#f8f8f8' or 'rgb(18, 18, 18)' as an (r, g, b) tuple."""
    colour = colour.strip()
    if colour.startswith("#"):
        hex_digits = colour[1:]
        if len(hex_digits) == 3:
            hex_digits = "".join(c * 2 for c in hex_digits)
        return tuple(int(hex_digits[i : i + 2], 16) for i in (0, 2, 4))
    return tuple(int(v) for v in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])


def _light(colour: str) -> bool:
    r, g, b = _rgb(colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 128


def _check_money(page, where: str) -> list[dict]:
    money = page.evaluate(MONEY)
    assert money, where
    for item in money:
        assert item["lines"] == 1, (where, item)
        assert item["height"] < 1.8 * item["lineHeight"], (where, item)
        assert not item["overflows"], (where, item)
        assert not item["text"].endswith((",00", ".00")), (where, item)
    return money


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_admin_in_a_real_browser(live_server, monkeypatch, settings, tmp_path):
    # given
    sync_playwright = _playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.WAWASAN_IMPORT_DIR = tmp_path
    seed_dashboard(today=timezone.localdate())
    insights_rebuild(trigger="browser-test")
    UserFactory(username="boss", is_staff=True, is_superuser=True, password="s3cret-pass")
    manager = UserFactory(username="manager", is_staff=True, password="s3cret-pass")
    manager.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_insights",
                "view_customer",
                "view_personal_data",
                "view_deal",
                "view_contact",
                "view_all_records",
            ]
        )
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    base = live_server.url

    def watch(page) -> None:
        page.on(
            "console",
            lambda m: (
                problems.append(f"{page.url}: console {m.type}: {m.text}")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"{page.url}: page error: {e}"))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    def login(page, username: str) -> None:
        page.goto(f"{base}/admin/login/?next=/admin/")
        page.fill("#id_username", username)
        page.fill("#id_password", "s3cret-pass")
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            # --- The login page's language switch --------------------------------------------
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            watch(page)
            page.goto(f"{base}/admin/login/")
            page.select_option("#id_language", "id")
            with page.expect_navigation():
                page.click(".insights-language button")
            assert page.locator("html").get_attribute("lang") == "id"
            assert "Nama pengguna" in page.inner_text("#content")
            assert page.title().endswith("Wawasan")

            # --- Index: branded, switch present, Indonesian ----------------------------------
            login(page, "manager")
            assert page.locator("#site-name").inner_text() == "Wawasan"
            assert page.locator("#header .insights-language select").count() == 1
            assert page.locator(".app-insights").count() == 1

            # --- The Indonesian dashboard, 1,440 px ------------------------------------------
            page.goto(f"{base}/admin/insights/dashboard/?preset=last_90_days")
            page.wait_for_function(ALL_DRAWN)
            text = page.inner_text("body")
            english = [word for word in ENGLISH if re.search(rf"\b{re.escape(word)}\b", text)]
            assert english == [], english
            money = _check_money(page, "dashboard 1440")
            assert any(m["text"].startswith("Rp") for m in money)
            assert page.evaluate(SIDEWAYS) <= 0
            # the revenue axis and tooltips use Intl.NumberFormat in the page's language,
            # with the currency: "Rp 32 jt", never "32,500,000"
            page.goto(f"{base}/admin/insights/dashboard/?preset=last_90_days&order=revenue")
            page.wait_for_function(ALL_DRAWN)
            axis = page.evaluate(
                """() => {
                  const c = window.Chart.getChart(document.getElementById('chart-products'));
                  return {ticks: c.scales.x.ticks.map((t) => t.label),
                          tooltip: c.options.plugins.tooltip.callbacks.label.call(c.tooltip,
                            {dataset: c.data.datasets[0], parsed: {x: 32500000, y: 0}})}; }"""
            )
            nonzero = [
                t for t in axis["ticks"] if t and not t.startswith("Rp\u00a00") and t != "Rp 0"
            ]
            assert nonzero and all(t.startswith("Rp") for t in nonzero), axis
            assert axis["tooltip"].endswith("Rp\u00a032.500.000"), axis

            # --- Phone: 390 px ----------------------------------------------------------------
            page.set_viewport_size({"width": 390, "height": 844})
            page.reload()
            page.wait_for_function(ALL_DRAWN)
            _check_money(page, "dashboard 390")
            assert page.evaluate(SIDEWAYS) <= 0, "the dashboard scrolls sideways at 390 px"

            # --- The 360° page: links, phone width -------------------------------------------
            ani = Customer.objects.get(contacts__first_name="Ani")
            page.goto(f"{base}/admin/insights/customer360/{ani.pk}/")
            assert page.evaluate(SIDEWAYS) <= 0, "the 360° page scrolls sideways at 390 px"
            _check_money(page, "360 at 390")
            deal_link = page.locator('a[href^="/admin/deals/deal/"]').first
            href = deal_link.get_attribute("href")
            page.set_viewport_size({"width": 1440, "height": 900})
            with page.expect_navigation() as navigation:
                page.goto(f"{base}{href}")
            assert navigation.value.status == 200
            page.goto(f"{base}/admin/insights/customer360/{ani.pk}/")
            contact_link = page.locator('a[href^="/admin/customers/contact/"]').first
            with page.expect_navigation():
                contact_link.click()
            assert "/admin/customers/contact/" in page.url
            context.close()

            # --- Dark mode: chart text takes the theme's colour ------------------------------
            dark = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="dark")
            page = dark.new_page()
            watch(page)
            login(page, "manager")
            page.goto(f"{base}/admin/insights/dashboard/?preset=last_90_days")
            page.wait_for_function(ALL_DRAWN)
            theme = page.evaluate(THEME)
            assert not _light(theme["bg"]), theme
            assert _light(theme["chart"]), theme  # not dark grey on black
            assert _rgb(theme["chart"]) == _rgb(theme["fg"]), theme
            page.screenshot(path=str(ARTIFACTS / "dashboard-dark.png"), full_page=True)
            assert (ARTIFACTS / "dashboard-dark.png").stat().st_size > 10_000
            dark.close()

            # --- Every page the index links, as a superuser: no console error, no 404 --------
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            page = context.new_page()
            problems.clear()
            watch(page)
            login(page, "boss")
            links = page.eval_on_selector_all(
                "#content-main a", "(as) => [...new Set(as.map((a) => a.getAttribute('href')))]"
            )
            links = [link for link in links if link and link.startswith("/admin/")]
            assert len(links) > 15
            for link in links:
                response = page.goto(f"{base}{link}")
                assert response is not None and response.status == 200, link
            assert problems == []

            # --- A deal's amount against its items, while typing ------------------------------
            from deals.models import DealItem

            item = DealItem.objects.select_related("deal").first()
            page.goto(f"{base}/admin/deals/deal/{item.deal_id}/change/")
            page.fill("#id_amount", "1")
            page.dispatch_event("#id_amount", "input")
            note = page.locator(".deal-items-total")
            assert note.is_visible() and "Differs from the items' total" in note.inner_text()
            note.locator("button").click()
            assert float(page.input_value("#id_amount")) > 1

            # --- The import page's dry run ----------------------------------------------------
            page.goto(f"{base}/admin/import/")
            page.select_option("#id_kind", "companies")
            page.set_input_files(
                "#id_file",
                files=[
                    {
                        "name": "companies.csv",
                        "mimeType": "text/csv",
                        "buffer": (
                            b"external_id,name,industry,created_at\n"
                            b"b-1,PT Browser,Retail,2026-01-05T09:00:00\n"
                            b"b-2,,Retail,2026-01-05T09:00:00\n"
                        ),
                    }
                ],
            )
            with page.expect_navigation():
                page.click("#import-dry-run")
            counts = page.inner_text("#import-counts")
            assert "Created\t1" in counts and "Rejected\t1" in counts
            assert "name" in page.inner_text("#import-rejections")
            assert page.locator("#import-confirm").count() == 1
            assert problems == []
            context.close()
        finally:
            browser.close()
