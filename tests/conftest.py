import pytest


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cache_warm_only_where_tested(request, settings):
    # Warming computes every section for every preset after each rebuild; most tests read a
    # figure or two, which the first read computes. Tests of the warm-up (or that compare
    # cached figures) carry the cache_warm mark.
    settings.INSIGHTS_CACHE_WARM = request.node.get_closest_marker("cache_warm") is not None


def pytest_collection_modifyitems(items):
    # CI runs the suite in two processes (pytest-xdist, --dist loadgroup); the tests that start
    # a Celery worker on the shared Redis database stay in one of them, one after another.
    for item in items:
        if item.get_closest_marker("redis"):
            item.add_marker(pytest.mark.xdist_group("redis"))
