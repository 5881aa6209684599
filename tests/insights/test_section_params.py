"""One parameter spec per registry section (issue 26): the API, the dashboard and the admin
customer filters refuse the same values with the same words, and no bound is written twice."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.urls import resolve
from django.utils import translation

from insights import section_params as sp
from insights.customer_filters import CustomerFilterError, customer_filters_clean
from insights.figures import SECTIONS, section
from tests.factories import UserFactory
from tests.insights.dashboard_fakes import FakeQueries

ROOT = Path(__file__).resolve().parents[2]
API = {
    "lifecycle": "/api/v1/insights/lifecycle/",
    "retention": "/api/v1/insights/retention/",
    "value": "/api/v1/insights/customer-value/",
    "products": "/api/v1/insights/top-products/",
    "demographics": "/api/v1/insights/demographics/",
}
# The section's endpoint takes these options (cohort_offset only selects a drill-down's
# customers); the dashboard's querystring takes these; the customer list these, beside the
# filter that needs them.
API_OPTIONS = {"lost_after", "event", "horizon", "model", "limit"}
DASHBOARD = {"lost_after", "event"}
CUSTOMER_LIST = {
    "lost_after": {"lifecycle": "lost"},
    "cohort_offset": {"cohort": "2026-01"},
    "event": {"cohort": "2026-01"},
}


def _bad(spec: sp.Spec) -> list[str]:
    if isinstance(spec, sp.WholeSpec):
        return sorted({str(spec.low - 1), str(spec.high + 1), "ninety", "1.5", "-1"})
    return ["nope", spec.choices[0].upper(), f"{spec.choices[0]} "[:-1] + "x"]


CASES = [
    (key, name, spec, raw)
    for key, specs in sp.SECTION_PARAMS.items()
    for name, spec in specs.items()
    for raw in _bad(spec)
]


@pytest.fixture
def staff(client, db, monkeypatch):
    # The URLconf first: a view module imported while the fakes are in would keep them.
    resolve("/api/v1/")
    FakeQueries().install(monkeypatch)
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    return client


def test_every_spec_belongs_to_a_registry_section():
    keys = {s.key for s in SECTIONS}
    assert set(sp.SECTION_PARAMS) <= keys
    assert section("lifecycle").params["lost_after"] is sp.LOST_AFTER
    assert section("value").params == {"horizon": sp.HORIZON, "model": sp.MODEL}


@pytest.mark.parametrize(("key", "name", "spec", "raw"), CASES)
def test_api_dashboard_and_customer_filters_refuse_alike(staff, key, name, spec, raw):
    # given: what the section's spec says of the value
    with pytest.raises(sp.ParamError) as refused:
        spec.parse(raw)
    message = refused.value.message
    # when / then: the API's 400 names the parameter with those words
    if name in API_OPTIONS:
        response = staff.get(API[key], {name: raw})
        assert response.status_code == 400, (key, name, raw)
        assert response.json()["errors"] == {name: [message]}
    # the dashboard, where it takes the option
    if name in DASHBOARD:
        page = staff.get("/admin/insights/dashboard/", {name: raw})
        assert page.status_code == 400
        assert (page.context["error_param"], page.context["error"]) == (name, message)
    # the customer list's filters (the admin list, the API's customers/ and saved segments)
    if name in CUSTOMER_LIST:
        with pytest.raises(CustomerFilterError) as filtered:
            customer_filters_clean({**CUSTOMER_LIST[name], name: raw})
        assert (filtered.value.param, filtered.value.message) == (name, message)


def test_the_words_are_the_readers_language():
    with translation.override("id"):
        with pytest.raises(sp.ParamError) as refused:
            sp.LOST_AFTER.parse("0")
    assert refused.value.message == "bilangan bulat dari 1 sampai 730"


def test_a_good_value_and_the_default_parse_everywhere_alike():
    assert sp.LOST_AFTER.parse(None) == sp.LOST_AFTER.default
    assert sp.LOST_AFTER.parse(" 45 ") == 45
    assert sp.EVENT.parse("") == "purchase"


# --- No bound written twice --------------------------------------------------------------------
def _sources() -> dict[Path, str]:
    files = [
        *sorted((ROOT / "insights").rglob("*.py")),
        *sorted((ROOT / "templates").rglob("*.html")),
    ]
    return {
        path: path.read_text()
        for path in files
        if "migrations" not in path.parts and path.name != "section_params.py"
    }


def _bound_patterns(spec: sp.WholeSpec) -> list[re.Pattern]:
    low, high = spec.low, spec.high
    return [
        re.compile(rf"(?<![\d.]){low}\s*(?:to|-|–|sampai)\s*{high}(?![\d.])"),
        re.compile(rf"low\s*=\s*{low}\s*,\s*high\s*=\s*{high}\b"),
        re.compile(rf"min_value\s*=\s*{low}\s*,\s*max_value\s*=\s*{high}\b", re.S),
        re.compile(rf"\b{low}\s*<=\s*\w+\s*<=\s*{high}\b"),
        re.compile(rf"\(\s*{low}\s*,\s*{high}\s*\)"),
    ]


def duplicated_bounds(sources: dict[Path, str]) -> list[str]:
    """Every place outside insights/section_params.py that types a spec's bounds again."""
    found = []
    specs = {
        (s.low, s.high): s
        for specs in sp.SECTION_PARAMS.values()
        for s in specs.values()
        if isinstance(s, sp.WholeSpec)
    }
    healthy, attention = sp.HEALTHY_FROM, sp.ATTENTION_FROM
    threshold = re.compile(
        rf"p_alive\w*\s*(?:<|__lt\s*=|_max\"?:\s*\")\s*{re.escape(str(sp.AT_RISK_BELOW))}\b"
        r"|AT_RISK_BELOW\s*=\s*[\d.]|HEALTHY_FROM\s*,?\s*\w*\s*=\s*\d"
        rf"|\b{healthy} or more\b|\b{attention}\s*(?:to|–|-)\s*{healthy - 1}\b"
        rf"|\bbelow {attention}\b|\bbelow {re.escape(str(sp.AT_RISK_BELOW))}\b"
    )
    for path, text in sources.items():
        for spec in specs.values():
            for pattern in _bound_patterns(spec):
                found += [f"{path.name}: {m.group(0)!r}" for m in pattern.finditer(text)]
        found += [f"{path.name}: {m.group(0)!r}" for m in threshold.finditer(text)]
    return found


def test_no_bound_is_written_outside_the_specs():
    assert duplicated_bounds(_sources()) == []


def test_the_check_finds_a_bound_typed_again():
    # given the forms a copy took before the specs (API help, filter parse, bounds check)
    copies = {
        Path("api.py"): 'help_text="The lapse window W in days, 1 to 730 (default 90)"',
        Path("filters.py"): 'lost_after = _int("lost_after", raw, low=1, high=730)',
        Path("params.py"): "serializers.IntegerField(min_value=1, max_value=730, default=365)",
        Path("lifecycle.py"): "if not 0 <= offset <= 12:",
        Path("value.py"): "queryset.filter(value__p_alive__lt=0.5)",
        Path("health.py"): "HEALTHY_FROM, ATTENTION_FROM = 70, 40",
        Path("admin.py"): '_("Needs attention (40–69)")',
        Path("api_health.py"): '"`at_risk` (below 40)."',
        Path("admin_p.py"): '{"p_alive_max": "0.5"}',
    }
    # then each is found
    assert len(duplicated_bounds(copies)) == 9
