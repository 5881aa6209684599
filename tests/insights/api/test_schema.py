"""The OpenAPI schema: valid, documented, served with packaged UI assets, and fuzzed."""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.test import APIClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.factories import ContactFactory, DealFactory, StageFactory

from .conftest import at, make_customer


@pytest.mark.django_db
def test_schema_validates_without_warnings(tmp_path):
    # when / then: raises on any warning or error
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


@pytest.mark.django_db
def test_schema_documents_every_parameter_and_field(api):
    # when
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()
    # then
    for path, item in schema["paths"].items():
        for parameter in item["get"].get("parameters", []):
            if parameter["in"] == "query":
                assert parameter.get("description"), (path, parameter["name"])
    for name, component in schema["components"]["schemas"].items():
        for field, spec in component.get("properties", {}).items():
            assert spec.get("description"), (name, field)
    growth = schema["components"]["schemas"]["Growth"]["properties"]
    # the figure registry's definition, not a copy
    assert growth["monthly_avg_new_customers"]["description"] == (
        "New customers divided by the period's length in months: a whole month counts 1, "
        "part of a month its share of that month's days."
    )
    assert growth["monthly_avg_new_customers"]["format"] == "decimal"
    customers = schema["paths"]["/api/v1/customers/"]["get"]["parameters"]
    assert {p["name"] for p in customers} >= {
        "source",
        "company",
        "first_seen_from",
        "first_seen_to",
        "has_deals",
        "segment",
        "rfm_start",
        "rfm_end",
        "r",
        "f",
        "revenue_min",
        "revenue_max",
        "country",
        "city",
        "product",
        "start",
        "end",
        "segment_id",
        "ordering",
        "search",
        "page",
        "page_size",
        "format",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "asset"),
    [
        ("/api/v1/schema/swagger/", "/static/drf_spectacular_sidecar/swagger-ui-dist/"),
        ("/api/v1/schema/redoc/", "/static/drf_spectacular_sidecar/redoc/"),
    ],
)
def test_browsable_docs_use_packaged_assets_not_a_cdn(api, viewer, url, asset):
    # given: a browser session
    client = APIClient()
    client.force_login(viewer)
    # when
    html = client.get(url).content.decode()
    # then
    assert asset in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


# --- schemathesis ----------------------------------------------------------------------------
@pytest.fixture
def wsgi_app(db):
    """Django's WSGI app, sharing the test transaction (as the test client does)."""
    # Django closes "old" connections at each request's end; inside a test transaction that
    # would roll the test data back, so the test client disconnects this too.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, viewer_token):
    customer = make_customer(display_name="Ani", revenue="10")
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    DealFactory(contact=ContactFactory(customer=customer), stage=won, closed_at=at("2026-01-12"))
    return schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json",
        wsgi_app,
        headers={"Authorization": f"Token {viewer_token.key}"},
    )


def _check(case, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    # no 5xx, every error is JSON, and bodies match the schema
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/json"), response.text
        response.json()
    # Schema-valid requests may still be refused: OpenAPI cannot say "start needs end", "not
    # preset with start" or "start <= end", so positive_data_acceptance is not applicable.
    case.validate_response(response, headers=headers, excluded_checks=[positive_data_acceptance])


def test_fuzzed_requests_never_get_a_server_error(api_schema, viewer_token):
    # given: a token of a user with insights.view_insights; 20 generated requests an operation
    # (schemathesis' own pytest loader needs a pytest internal that pytest 9 removed, so each
    # operation's strategy is driven by Hypothesis directly)
    headers = {"Authorization": f"Token {viewer_token.key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 21  # 16 GETs + segments: list, create, read, update, delete
    labels = {operation.label for operation in operations}
    assert {
        "GET /api/v1/insights/lifecycle/",
        "GET /api/v1/insights/retention/",
        "GET /api/v1/insights/service/",
    } <= labels
    for operation in operations:

        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def fuzz(case) -> None:
            _check(case, headers)

        # when / then
        fuzz()


@pytest.mark.django_db
def test_endpoint_descriptions_state_definitions_not_spec_references(api):
    # when
    raw = api.get("/api/v1/schema/", {"format": "json"}).content.decode()
    schema = api.get("/api/v1/schema/", {"format": "json"}).json()

    # then: users cannot read METRICS.md, so nothing may cite it
    assert "METRICS" not in raw
    revenue = schema["paths"]["/api/v1/insights/revenue/"]["get"]
    assert revenue["summary"] == "Revenue"
    assert (
        "**Paying customers**: Customers with at least one won deal in the period."
        in (revenue["description"])
    )
