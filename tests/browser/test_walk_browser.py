"""A walk through the product as a manager reads it (issue 32's done-when): the dashboard, the
customer list, the 360° page, the import page and the saved segment form, in English and Bahasa
Indonesia, light and dark, at 1,440 and 390 px, on the demo data. On every page: no console
error, no sideways scroll, no number broken over two lines, and on Indonesian pages no English
text that our catalogue translates (a string shown untranslated)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command

from chats.models import ChatContact, ChatRoom
from customers.models import Customer
from deals.models import LostReason, PipelineStage, Product
from insights.models import Segment
from tests.browser.test_dashboard_browser import CHROMIUM, LAUNCH_ARGS, _playwright
from tests.browser.test_readability_browser import BROKEN_WORDS
from tests.config.test_translations import po_entries
from tests.factories import UserFactory

PO = Path(__file__).resolve().parents[2] / "locale" / "id" / "LC_MESSAGES" / "django.po"

# Every visible text of the page, whitespace folded.
TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest("script, style, noscript, template, code, pre")) { continue; }
    const style = getComputedStyle(parent);
    if (style.display === "none" || style.visibility === "hidden") { continue; }
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) { out.push(text); }
  }
  return out;
}"""
LIST_FITS = """() => { const t = document.querySelector("#result_list");
  const c = document.querySelector("#changelist .results");
  return {table: t.scrollWidth, area: c.clientWidth, fits: t.scrollWidth <= c.clientWidth + 1}; }"""
# Numbers and dates broken on any page: the cells marked `num` and the dashboard's values.
BROKEN_ANYWHERE = BROKEN_WORDS.replace('".insights-360 .num"', '".num, .insights-value"')


def _english_translated() -> set[str]:
    """UI strings of two words or more whose Indonesian differs (shown as is = a leak)."""
    entries = po_entries(PO.read_text(encoding="utf-8"))
    return {
        e["msgid"]
        for e in entries
        if e["msgid"]
        and e["msgstr"]
        and e["msgstr"][0]
        and e["msgstr"][0] != e["msgid"]
        and " " in e["msgid"].strip()
        and "%(" not in e["msgid"]
        and "{" not in e["msgid"]
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_managers_walk_in_both_languages_light_and_dark_wide_and_narrow(live_server, monkeypatch):
    # given: the demo data, rebuilt, and a manager
    sync_playwright = _playwright()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    call_command("seed_demo", verbosity=0)
    call_command("rebuild_insights", verbosity=0)
    manager = UserFactory(username="walker", is_staff=True, is_superuser=True, password="walk-pass")
    customer = Customer.objects.filter(contacts__deals__isnull=False).order_by("pk").first()
    segment = Segment.objects.create(
        name="Jakarta", owner=manager, filters={"city": "Jakarta"}, shared=True
    )
    pages = {
        "dashboard": "/admin/insights/dashboard/?preset=this_year",
        "customers": "/admin/customers/customer/",
        "360": f"/admin/insights/customer360/{customer.pk}/",
        "import": "/admin/import/",
        "segment": f"/admin/insights/segment/{segment.pk}/change/",
    }
    # Labels are shown as written (METRICS §4): a source or channel named "Live chat" is data.
    data_labels = {
        *Customer.objects.values_list("source", flat=True),
        *ChatContact.objects.values_list("channel", flat=True),
        *ChatRoom.objects.values_list("agent", flat=True),
        *PipelineStage.objects.values_list("name", flat=True),
        *Product.objects.values_list("name", flat=True),
        *LostReason.objects.values_list("name", flat=True),
    }
    english = _english_translated() - data_labels
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            for language in ("en", "id"):
                for scheme in ("light", "dark"):
                    for width in (1440, 390):
                        context = browser.new_context(
                            viewport={"width": width, "height": 900},
                            color_scheme=scheme,
                            locale=language,
                        )
                        context.add_cookies(
                            [{"name": "django_language", "value": language,
                              "url": live_server.url}]
                        )  # fmt: skip
                        page = context.new_page()
                        where = {"page": ""}
                        page.on(
                            "console",
                            lambda m, where=where: (
                                problems.append(f"{where['page']}: console {m.text}")
                                if m.type == "error"
                                else None
                            ),
                        )
                        page.goto(f"{live_server.url}/admin/login/")
                        page.fill("#id_username", "walker")
                        page.fill("#id_password", "walk-pass")
                        page.click("input[type=submit]")
                        page.wait_for_url(re.compile(r".*/admin/$"))
                        for name, path in pages.items():
                            label = f"{name} {language} {scheme} {width}"
                            where["page"] = label
                            response = page.goto(f"{live_server.url}{path}")
                            page.wait_for_load_state("networkidle")
                            # then
                            if response is None or response.status != 200:
                                problems.append(f"{label}: HTTP {response and response.status}")
                                continue
                            scroll = page.evaluate("document.documentElement.scrollWidth")
                            if scroll > width + 1:
                                problems.append(f"{label}: {scroll} px wide")
                            if name == "customers" and width == 1440:
                                # every default column visible without scrolling the table
                                fit = page.evaluate(LIST_FITS)
                                if not fit["fits"]:
                                    problems.append(f"{label}: list {fit}")
                            broken = page.evaluate(BROKEN_ANYWHERE)
                            if broken:
                                problems.append(f"{label}: broken {broken[:5]}")
                            if language == "id":
                                leaks = sorted({t for t in page.evaluate(TEXTS) if t in english})
                                if leaks:
                                    problems.append(f"{label}: English {leaks[:8]}")
                        context.close()
        finally:
            browser.close()

    assert problems == [], "\n".join(problems)
