"""The period form after a bad request: what the user typed stays, the message sits beside
the field, in the reader's language."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory
from tests.insights.dashboard_fakes import FakeQueries

URL = "/admin/insights/dashboard/"
BAD_RANGE = {"preset": "custom", "start": "2026-11-20", "end": "2026-11-01", "granularity": "week"}


@pytest.fixture
def fake(monkeypatch):
    return FakeQueries().install(monkeypatch)


@pytest.fixture
def viewer(client, db):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    return user


def test_invalid_custom_range_keeps_what_was_typed(client, fake, viewer):
    # when
    response = client.get(URL, BAD_RANGE)

    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert '<option value="custom" selected>' in html
    assert '<option value="yesterday" selected>' not in html
    assert '<option value="week" selected>' in html
    assert 'value="2026-11-20"' in html and 'value="2026-11-01"' in html
    assert 'id="id_start" aria-invalid="true" aria-describedby="error-start"' in html
    assert '<p class="insights-field-error errorlist" id="error-start">' in html
    # in the form's words: its field labels and the language's dates (issue 32 item 12)
    assert "Start (Nov. 20, 2026) is after End (Nov. 1, 2026)" in html


def test_dates_without_a_preset_keep_custom_selected(client, fake, viewer):
    # when
    html = client.get(URL, {"start": "2026-13-01", "end": "2026-11-01"}).content.decode()

    # then
    assert '<option value="custom" selected>' in html
    assert 'id="error-start"' in html


def test_message_beside_the_field_is_translated(client, fake, viewer):
    # given
    client.cookies["django_language"] = "id"

    # when
    html = client.get(URL, BAD_RANGE).content.decode()

    # then
    assert "Mulai (20 Nov. 2026) setelah Akhir (1 Nov. 2026)" in html
    assert "is after End" not in html
