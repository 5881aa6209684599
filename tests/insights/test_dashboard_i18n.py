"""The dashboard in Bahasa Indonesia: compiled translations, the language switcher, money."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory
from tests.insights.dashboard_fakes import FakeQueries

URL = "/admin/insights/dashboard/"


@pytest.fixture
def fake(monkeypatch):
    return FakeQueries().install(monkeypatch)


@pytest.fixture
def viewer(client, db):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    client.force_login(user)
    return user


def test_switcher_sets_indonesian_and_the_page_follows(client, fake, viewer):
    # given
    switched = client.post("/i18n/setlang/", {"language": "id", "next": URL + "?preset=today"})

    # when
    html = client.get(URL, {"preset": "today"}).content.decode()

    # then
    assert switched.status_code == 302 and switched["Location"] == URL + "?preset=today"
    assert '<html lang="id"' in html
    assert "A. Ikhtisar pertumbuhan pelanggan" in html
    assert "B. Pelanggan menurut sumber dan perusahaan" in html
    assert "KPI pendapatan" in html
    assert "Rp30.000.000" in html  # revenue
    assert "Rp3.100.000,50" in html  # average lifetime value
    assert "Pelanggan yang pertama terlihat pada atau sebelum akhir periode." in html
    assert '<optgroup label="Lalu">' in html and '<optgroup label="Mendatang">' in html
    assert "Hari ini" in html
    assert "Asosiasi transaksi %</th>" in html  # a "%" in a template string survives
    assert "IDR 30,000,000" not in html


def test_english_is_the_default(client, fake, viewer):
    # given / when
    html = client.get(URL).content.decode()

    # then
    assert "A. Customer growth overview" in html
    assert "IDR 30,000,000" in html
    assert "Deal association %</th>" in html
    assert 'action="/i18n/setlang/"' in html


def test_error_message_is_translated(client, fake, viewer):
    # given
    client.cookies["django_language"] = "id"

    # when
    response = client.get(URL, {"scope": "vip"})

    # then
    assert response.status_code == 400
    assert "Cakupan &#x27;vip&#x27; tidak dikenal" in response.content.decode()


def test_lifecycle_and_retention_sections_in_indonesian(client, fake, viewer):
    # given
    client.post("/i18n/setlang/", {"language": "id", "next": URL})

    # when
    html = client.get(URL, {"preset": "this_year"}).content.decode()

    # then
    assert "Siklus hidup pembeli" in html and "Pembeli kembali" in html
    assert "Retensi per kohort bulanan (% dari kohort; arahkan kursor untuk jumlahnya)" in html
    assert "90 hari" in html and "Satu pelanggan baru setiap … jam" in html
    assert "periode sebelumnya:" in html
