"""Issue 27 item 15: a 400 names the parameter that is wrong, not another one."""

import pytest

pytestmark = pytest.mark.django_db

LIST = "/api/v1/customers/"


@pytest.mark.parametrize(
    ("params", "wrong"),
    [
        ({"lifecycle": "zombie"}, "lifecycle"),
        ({"lifecycle": "lost", "lost_after": "0"}, "lost_after"),
        ({"lifecycle": "lost", "lost_after": "9999"}, "lost_after"),
        ({"buyers": "zombie", "buyers_start": "2026-01-01", "buyers_end": "2026-01-31"}, "buyers"),
        ({"cohort": "2026-13", "cohort_offset": "0"}, "cohort"),
    ],
)
def test_the_error_names_the_wrong_parameter(api, params, wrong):
    response = api.get(LIST, params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [wrong], response.json()
