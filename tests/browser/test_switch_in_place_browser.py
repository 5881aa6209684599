"""Switches keep your place (issue 32 item 5): the lapse window, the retention event, the New
customers tab and "By revenue" change their section without a reload and without jumping to the
top of the page, the URL keeps the state, and every chart is drawn again."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from insights.rebuild import insights_rebuild
from tests.browser.seed import seed_dashboard
from tests.browser.test_dashboard_browser import ALL_DRAWN, CHROMIUM, LAUNCH_ARGS, _playwright
from tests.factories import UserFactory

SECTION_TOP = "(id) => document.getElementById(id).getBoundingClientRect().top"
# The URL and the section's current switch both carry the parameter (a function: the page's
# CSP refuses a string to evaluate).
SWITCHED = """([id, param]) => {
  const current = document.querySelector(`#${id} .insights-switch a[aria-current]`);
  return window.location.search.includes(param) && current
    && current.getAttribute("href").includes(param);
}"""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_switches_change_their_section_in_place(live_server, monkeypatch):
    # given
    sync_playwright = _playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    seed_dashboard(today=timezone.localdate())
    insights_rebuild(trigger="browser-test")
    user = UserFactory(username="manager", is_staff=True, password="s3cret-pass")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_insights"]))
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(f"{live_server.url}/admin/login/?next=/admin/")
            page.fill("#id_username", "manager")
            page.fill("#id_password", "s3cret-pass")
            page.click("input[type=submit]")
            page.wait_for_url(f"{live_server.url}/admin/")
            page.goto(f"{live_server.url}/admin/insights/dashboard/?preset=last_90_days")
            page.wait_for_function(ALL_DRAWN)
            page.evaluate("window.__noReload = true")
            results = {}
            for section, link_text, param in (
                ("section-lifecycle", "30", "lost_after=30"),
                ("section-retention", None, "event=activity"),
                ("section-demographics", None, "scope=new"),
                ("section-products", None, "order=revenue"),
            ):
                link = page.locator(f"#{section} .insights-switch a:not([aria-current])")
                if link_text:
                    link = link.filter(has_text=link_text)
                link = link.first
                link.scroll_into_view_if_needed()
                page.evaluate(f"document.getElementById('{section}').scrollIntoView()")
                before = page.evaluate(SECTION_TOP, section)
                # when
                link.click()
                page.wait_for_function(SWITCHED, arg=[section, param])
                page.wait_for_function(ALL_DRAWN)
                results[section] = {
                    "moved": abs(page.evaluate(SECTION_TOP, section) - before),
                    "no_reload": page.evaluate("window.__noReload === true"),
                    "hash": page.evaluate("window.location.hash"),
                }
        finally:
            browser.close()

    # then: no reload, the section stayed where it was, the URL holds the state
    for section, result in results.items():
        assert result["no_reload"], section
        assert result["moved"] < 40, (section, result)
        assert result["hash"] == f"#{section}", (section, result)
    assert problems == []
