"""The figure registry (insights.figures) and every face built from it cover the same figures.

Issue 26: sections were added one face at a time and the faces drifted (the XLSX lacked four
sections, the API root five endpoints). Each section of the registry must have an API endpoint
whose schema documents every headline figure, a section of the dashboard with every headline
figure on it, a sheet of the XLSX with a row per headline figure, and Indonesian text for its
title and every figure's label and help. A section added to the registry alone fails here.
"""

import pytest
from django.contrib.auth.models import Permission
from django.utils import translation
from django.utils.translation import trans_real

from insights.api import urls
from insights.dashboards import forecast as forecast_dashboard
from insights.dashboards import service as service_dashboard
from insights.figures import FIGURES, SECTIONS, cards, headline_figures
from tests.factories import UserFactory
from tests.insights.dashboard_fakes import FakeQueries


def _endpoints() -> dict[str, str]:
    """{section key: API path} from the URLconf: the views that say which section they answer."""
    found = {}
    for pattern in urls.urlpatterns:
        view = getattr(pattern.callback, "view_class", None)
        if view is not None and getattr(view, "section", None):
            found[view.section] = f"/api/v1/{pattern.pattern}"
    return found


def test_every_section_has_an_endpoint_whose_schema_documents_its_headline_figures(api):
    endpoints = _endpoints()
    assert set(endpoints) == {s.key for s in SECTIONS}
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for section in SECTIONS:
        response = schema["paths"][endpoints[section.key]]["get"]["responses"]["200"]
        ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        properties = components[ref]["properties"]
        for entry in headline_figures(section.key):
            assert entry.field in properties, (section.key, entry.key)
            assert properties[entry.field].get("description"), (section.key, entry.key)
        if section.compares:
            assert {"previous", "change_pct"} <= set(properties), section.key


@pytest.fixture
def staff_client(client, db, monkeypatch):
    FakeQueries().install(monkeypatch)
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    return client


# Figures shown inside another figure's element: the service and forecast sections say which.
SHOWN_WITHIN = {**service_dashboard.SHOWN_WITHIN, **forecast_dashboard.SHOWN_WITHIN}


def test_every_section_and_headline_figure_is_on_the_dashboard(staff_client):
    # A past period and one that has not ended: the forecast section leads the latter only.
    page = "".join(
        staff_client.get("/admin/insights/dashboard/", {"preset": preset}).content.decode()
        for preset in ("last_month", "this_month")
    )
    for section in SECTIONS:
        if not section.on_dashboard:
            assert f'id="section-{section.key}"' not in page, "set on_dashboard"
            continue
        assert f'id="section-{section.key}"' in page, section.key
        for entry in cards(section.key):
            key = SHOWN_WITHIN.get(entry.key, entry.key)
            if key in forecast_dashboard.SHOWN_WHEN_ANY:
                continue  # no deals here: test_forecast_cards_carry_figure_ids has some
            assert f'id="figure-{key}"' in page or f'id="figure-service-{key}"' in page, key


def test_every_section_is_a_sheet_of_the_xlsx_with_each_headline_figure(staff_client):
    from django.http import QueryDict

    from insights.dashboards.core import dashboard_figures
    from insights.dashboards.params import dashboard_params
    from insights.dashboards.xlsx import dashboard_sheets

    params = dashboard_params(query=QueryDict("preset=last_month"))
    sheets = {
        s.key: s for s in dashboard_sheets(params=params, figures=dashboard_figures(params=params))
    }
    assert list(sheets) == [s.key for s in SECTIONS]
    for section in SECTIONS:
        labels = [label for label, _value, _unit in sheets[section.key].figures]
        assert labels == [str(f.label) for f in headline_figures(section.key)], section.key
        assert labels or sheets[section.key].tables, section.key  # no empty sheet


# Sections (by key) or figures (by where METRICS.md defines them) that landed before their
# Indonesian text: issue 28's forecast, issue 30's service levels. Remove an entry when the
# catalogue has it; the test then holds those figures to it like every other.
TRANSLATION_PENDING: set[str] = set()


def test_every_title_label_and_help_has_indonesian_text(db):
    catalogue = trans_real.translation("id")._catalog
    texts = [s.title for s in SECTIONS if s.key not in TRANSLATION_PENDING] + [
        t
        for f in FIGURES
        if not {f.section, f.defined_in} & TRANSLATION_PENDING
        for t in (f.label, f.help)
    ]
    with translation.override("en"):
        missing = [str(text) for text in texts if str(text) not in catalogue]
    assert missing == []
