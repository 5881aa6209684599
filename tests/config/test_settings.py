import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_start_refuses_the_development_secret_key():
    # when: DEBUG is off and no SECRET_KEY is given
    result = _manage("check", DEBUG="False")
    # then
    assert result.returncode != 0
    assert "SECRET_KEY is the development key" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    # given: production settings from the environment
    env = {"DEBUG": "False", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "x.id"}
    # when
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_start_without_settings_is_a_production_start():
    # given: neither DEBUG nor SECRET_KEY in the environment (issue 13 item 16)
    # when
    refused = _manage("check")
    with_key = _manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    # then: DEBUG is off, so the development key is refused; with a key, DEBUG stays off
    assert refused.returncode != 0 and "SECRET_KEY is the development key" in refused.stderr
    assert with_key.stdout.strip().splitlines()[-1] == "False", with_key.stderr


def test_the_cache_is_shared_redis_when_configured_else_the_database():
    # given / when
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    plain = _manage("shell", "-c", show, DEBUG="True")
    redis = _manage("shell", "-c", show, DEBUG="True", CACHE_URL="redis://127.0.0.1:6379/3")
    broker = _manage(
        "shell", "-c", show, DEBUG="True", CELERY_BROKER_URL="redis://127.0.0.1:6379/4"
    )
    # then: never a per-process memory cache
    assert plain.stdout.split()[-1] == "django.core.cache.backends.db.DatabaseCache"
    assert redis.stdout.split()[-1] == "django.core.cache.backends.redis.RedisCache"
    assert broker.stdout.split()[-1] == "django.core.cache.backends.redis.RedisCache"
