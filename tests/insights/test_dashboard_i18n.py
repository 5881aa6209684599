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
    assert ">Pertumbuhan pelanggan</h2>" in html
    assert ">Pelanggan menurut sumber, perusahaan, negara, dan kota</h2>" in html
    assert ">Pendapatan</h2>" in html
    assert 'title="Rp30.000.000">Rp\u00a030\u00a0jt<' in html  # revenue
    assert 'title="Rp3.100.001">Rp\u00a03,1\u00a0jt<' in html  # average lifetime value
    assert "Pelanggan yang pertama terlihat pada atau sebelum akhir periode." in html
    assert '<optgroup label="Lalu">' in html and '<optgroup label="Mendatang">' in html
    assert "Hari ini" in html
    assert "Asosiasi transaksi %</th>" in html  # a "%" in a template string survives
    assert "IDR\u00a0" not in html and "IDR " not in html


def test_english_is_the_default(client, fake, viewer):
    # given / when
    html = client.get(URL).content.decode()

    # then
    assert ">Customer growth</h2>" in html
    assert 'title="IDR\u00a030,000,000">IDR\u00a030M<' in html
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


def test_fixed_labels_are_translated_for_display_only(client, fake, viewer):
    # given: the fake's source list holds "Other" and a lost reason "Unspecified"
    client.cookies["django_language"] = "id"

    # when
    html = client.get(URL).content.decode()

    # then: shown in Indonesian, the drill-down keeps the label as defined
    assert ">Lainnya</a>" in html
    assert "source=Other" in html
    assert ">Other<" not in html
    assert '<th scope="row">Tidak disebutkan</th>' in html
    assert ">Unspecified<" not in html


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


def test_rfm_segment_names_are_translated_for_display_only(client, fake, viewer):
    # given
    client.cookies["django_language"] = "id"

    # when
    html = client.get(URL).content.decode()

    # then: the table shows the Indonesian name, the drill-down keeps the defined one
    assert 'class="segment-link">Juara</a>' in html
    assert "segment=Champions" in html
