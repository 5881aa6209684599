"""The Wawasan admin site: branding, "View site", favicon, the index groups, language switch."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _staff(client, *codenames: str, superuser: bool = False):
    user = UserFactory(is_staff=True, is_superuser=superuser)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client.force_login(user)
    return user


def test_index_is_branded_and_view_site_leads_to_the_dashboard(client):
    # given
    _staff(client, "view_insights")

    # when
    html = client.get("/admin/").content.decode()

    # then
    assert "Django administration" not in html and "Django site admin" not in html
    assert '<a href="/admin/">Wawasan</a>' in html
    assert '<a href="/admin/insights/dashboard/">View site</a>' in html
    assert 'rel="icon" href="/static/wawasan/favicon.svg"' in html


def test_login_page_has_the_language_switch_and_favicon(client):
    # when
    html = client.get("/admin/login/").content.decode()

    # then
    assert 'action="/i18n/setlang/"' in html
    assert '<option value="id"' in html
    assert "wawasan/favicon.svg" in html
    assert "Django administration" not in html


def test_login_page_follows_the_chosen_language(client):
    # given
    client.post("/i18n/setlang/", {"language": "id", "next": "/admin/login/"})

    # when
    html = client.get("/admin/login/").content.decode()

    # then
    assert '<html lang="id"' in html
    assert "Nama pengguna" in html  # Django's own Indonesian catalogue


def test_favicon_ico_is_served(client):
    # when
    response = client.get("/favicon.ico")

    # then: no 404 in the log of a page that names no icon
    assert response.status_code == 301
    assert response["Location"] == "/static/wawasan/favicon.svg"


def test_insights_come_first_once_and_system_models_only_for_superusers(client):
    # given
    _staff(client, "view_insights", "view_customer")

    # when
    html = client.get("/admin/").content.decode()

    # then
    first_app = html.index('class="app-')
    assert html[first_app:].startswith('class="app-insights')
    assert html.count(">Customer Insights<") == 1
    assert "Dashboard: growth, sales, RFM and revenue" in html
    assert "System" not in html and "Tokens" not in html


def test_superuser_sees_technical_models_under_system(client):
    # given
    _staff(client, superuser=True)

    # when
    html = client.get("/admin/").content.decode()

    # then
    system = html.split('class="app-system')[1]
    assert "Tokens" in system and "Periodic tasks" in system and "Crontabs" in system
    assert 'class="app-authtoken' not in html and 'class="app-django_celery_beat' not in html


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/customers/customer/",
        "/admin/deals/deal/add/",
        "/admin/django_celery_beat/periodictask/",
    ],
)
def test_indonesian_admin_pages_carry_no_english_the_issue_found(client, url):
    # given
    _staff(client, superuser=True)
    client.cookies["django_language"] = "id"

    # when
    html = client.get(url).content.decode()

    # then
    for english in (
        "Data quality",
        "Match rules",
        "Placeholder keys",
        "Erasure records",
        "Periodic tasks",
        "Periodic Tasks",
        "Erase this person",
        "Name, email or phone in any format",
        ">Value<",
        "Django administration",
        "View site",
    ):
        assert english not in html, (url, english)
