"""Issue 27 item 21: a weak SECRET_KEY is refused at start outside DEBUG."""

import secrets

import pytest

from tests.config.test_settings import _manage


@pytest.mark.parametrize(
    "key",
    [
        "short",
        "a" * 60,  # long, but one distinct character
        "django-insecure-" + "k3Y9vQ2mZx7T" * 5,  # Django's generated development prefix
        "Zq8vN2kX7pL4mR9tW3yB6cF1hJ5dG0sA8eK2uY7iO4nM3bV",  # under 50 characters
    ],
    # Fixed values and ids: pytest-xdist's processes must collect the same test names.
    ids=["short", "one-character", "django-insecure", "under-50"],
)
def test_a_weak_secret_key_is_refused_when_debug_is_off(key):
    # when
    result = _manage("check", DEBUG="False", SECRET_KEY=key, ALLOWED_HOSTS="x.id")
    # then: the start fails and says why, without echoing the key
    assert result.returncode != 0
    assert "SECRET_KEY is weak" in result.stderr
    assert key not in result.stderr


def test_a_weak_secret_key_is_allowed_in_debug():
    result = _manage("check", DEBUG="True", SECRET_KEY="short")
    assert result.returncode == 0, result.stderr


def test_a_proper_key_keeps_the_deploy_check_clean():
    env = {"DEBUG": "False", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "x.id"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
