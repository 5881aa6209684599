"""Settings for the request-cost bench only: the project's settings plus bench/urls.py.

Never used in production: the bare views of bench/urls.py exist to measure what a request
costs before any database work (authentication, permission, throttle, middleware).
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
