"""The edges of the calendar (issue 26): a period whose figures cannot be computed is a 400
naming the parameter, on every insights endpoint and on the dashboard, never a 500.

Year 1 has no previous period P′ before it; a period ending on 31 December 9999 has no day
after it for a bucket or a lapse window to step to. The rule lives in insights.periods alone.
"""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory

EDGES = [
    ({"start": "0001-01-01", "end": "0001-01-31"}, "start"),
    ({"start": "0001-03-01", "end": "0001-12-31"}, "start"),
    ({"start": "0003-01-01", "end": "0003-01-31"}, "start"),
    ({"start": "9999-12-01", "end": "9999-12-31"}, "end"),
    ({"start": "9999-01-01", "end": "9999-01-31"}, "end"),
]


def insights_endpoints() -> list[str]:
    """Every /api/v1/insights/... path the URLconf serves (a new one is tested by itself)."""
    from insights.api import urls

    paths = []
    for pattern in urls.urlpatterns:
        route = str(getattr(pattern.pattern, "_route", ""))
        if route.startswith("insights/"):
            paths.append(f"/api/v1/{route}")
    assert len(paths) >= 11
    return paths


@pytest.mark.parametrize(("params", "param"), EDGES)
def test_every_insights_endpoint_answers_400_naming_the_parameter(api, params, param):
    for path in insights_endpoints():
        response = api.get(path, params)
        assert response.status_code == 400, (path, response.status_code)
        assert list(response.json()["errors"]) == [param], path


def test_the_first_period_with_a_previous_one_is_computed(api):
    # given: February of year 3, whose P' is 4 to 31 January; the longest lapse window
    params = {"start": "0003-02-01", "end": "0003-02-28", "lost_after": 730}
    for path in insights_endpoints():
        assert api.get(path, params).status_code == 200, path


def test_the_last_period_allowed_is_computed(api):
    params = {"start": "9997-12-01", "end": "9997-12-31", "lost_after": 730}
    for path in insights_endpoints():
        assert api.get(path, params).status_code == 200, path


@pytest.fixture
def staff_client(client, db):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    return client


@pytest.mark.parametrize(("params", "param"), EDGES)
@pytest.mark.parametrize("granularity", ["day", "month"])
def test_the_dashboard_shows_the_form_error(staff_client, params, param, granularity):
    response = staff_client.get(
        "/admin/insights/dashboard/", {"preset": "custom", "granularity": granularity, **params}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="error-{param}"' in html


@pytest.mark.parametrize(("params", "param"), EDGES)
def test_the_xlsx_download_answers_400(staff_client, params, param):
    response = staff_client.get("/admin/insights/dashboard/xlsx/", params)
    assert response.status_code == 400
