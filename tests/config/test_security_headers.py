"""Issue 13 items 8 and 11: login lockout, Content-Security-Policy, no-store on the API."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


def _login(client, password: str, address: str = "10.0.0.1"):
    return client.post(
        LOGIN,
        {"username": "rina", "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        HTTP_X_FORWARDED_FOR=f"192.0.2.{len(password)}",  # spoofed: must not matter
    )


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_repeated_wrong_passwords_lock_out_that_user_at_that_address(client, settings):
    # given: the attack was 30 wrong passwords in 8 s, then the right one
    user = UserFactory(username="rina", is_staff=True)
    user.set_password("the-right-one")
    user.save()

    # when
    wrong = [_login(client, f"guess-{n}").status_code for n in range(settings.AXES_FAILURE_LIMIT)]
    right = _login(client, "the-right-one")

    # then: the right password no longer opens the door from that address
    assert wrong[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert right.status_code in (403, 429)
    assert not _logged_in(client)

    # and another address is not locked out by this one's guesses
    other = _login(client, "the-right-one", address="10.0.0.2")
    assert other.status_code == 302 and _logged_in(client)


def test_a_success_before_the_limit_resets_the_count(client, settings):
    # given
    user = UserFactory(username="rina", is_staff=True)
    user.set_password("the-right-one")
    user.save()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, f"typo-{n}")

    # when
    first = _login(client, "the-right-one")
    client.logout()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, f"typo-again-{n}")
    second = _login(client, "the-right-one")

    # then
    assert first.status_code == 302 and second.status_code == 302


def test_pages_carry_a_content_security_policy_without_inline_scripts(admin_client):
    # when
    page = admin_client.get("/admin/")

    # then
    policy = page["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy


def test_the_swagger_page_needs_no_inline_script(admin_client):
    # given
    admin = admin_client
    # when
    html = admin.get("/api/v1/schema/swagger/").content.decode()

    # then: every script is a file the policy allows
    assert "<script>" not in html


def test_api_answers_with_personal_data_are_not_stored_by_caches(client):
    # given
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    token = Token.objects.create(user=user)

    # when
    response = client.get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {token.key}")

    # then
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
