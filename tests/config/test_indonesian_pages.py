"""No English on Indonesian pages (issue 32 item 7): the admin menu, the login error, the
labels figures use for "none"."""

import pytest
from django.utils import translation

from insights.templatetags.insights_format import display_label

pytestmark = pytest.mark.django_db


def test_the_login_error_says_username_once(client):
    # when: a wrong password on the Indonesian login page
    client.cookies["django_language"] = "id"
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "nobody", "password": "wrong"},
        HTTP_ACCEPT_LANGUAGE="id",
    )
    # then
    html = response.content.decode()
    assert "dan kata sandi akun staf yang benar" in html
    assert "nama pengguna nama pengguna" not in html.lower()


def test_the_admin_menu_has_no_english_rebuild(admin_client):
    # when
    admin_client.cookies["django_language"] = "id"
    html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="id").content.decode()
    # then: the rebuild runs' model name is Indonesian
    assert "Penghitungan ulang" in html
    assert "Proses rebuild" not in html


@pytest.mark.parametrize(
    ("label", "indonesian"),
    [("Other", "Lainnya"), ("All others", "Semua lainnya"), ("Unassigned", "Belum ditugaskan")],
)
def test_labels_for_none_are_shown_in_indonesian(label, indonesian):
    with translation.override("id"):
        assert display_label(label) == indonesian
    with translation.override("en"):
        assert display_label(label) == label
