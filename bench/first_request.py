"""The first requests of a fresh server process, with and without the start-up warm-up.

Each try starts a new Python process that loads the application as a server would and answers
`--requests` uncached API requests through the WSGI callable (no network, no test client):

* arm A, `django`: Django's bare `get_wsgi_application()`, views imported by the first request
  that resolves to them (what the entry point did before `config.process_warm`);
* arm B, `config`: `config.wsgi`, which imports every view at start.

The figure cache (FigureCache and the Django cache) is emptied before each request, so every
request computes its figures and the difference between the arms is the process's own first-use
cost. DEBUG is off, as in production. Run on a rebuilt database:

    DATABASE_URL=postgres://... .venv/bin/python -m bench.first_request \
        --path "/api/v1/insights/service/?preset=last_30_days" --tries 5
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARMS = ("django", "config")

CHILD = r"""
import io, json, os, sys, time
started = time.perf_counter()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if os.environ["BENCH_ARM"] == "config":
    from config.wsgi import application
else:
    from django.core.wsgi import get_wsgi_application
    application = get_wsgi_application()
start_ms = (time.perf_counter() - started) * 1000
from django.core.cache import cache
from django.db import connections
from insights.models import FigureCache

def request(path):
    path_info, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path_info, "QUERY_STRING": query,
        "SERVER_NAME": "testserver", "SERVER_PORT": "443", "HTTP_HOST": "testserver",
        "HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": "https",
        "HTTP_AUTHORIZATION": "Token " + os.environ["BENCH_TOKEN"],
        "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    statuses = []
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise SystemExit(f"{path}: {statuses[0]} {body[:300]!r}")

timings = []
for _ in range(int(os.environ["BENCH_REQUESTS"])):
    FigureCache.objects.all().delete()
    cache.clear()
    connections.close_all()  # a server closes its connection after each request (CONN_MAX_AGE 0)
    began = time.perf_counter()
    request(os.environ["BENCH_PATH"])
    timings.append((time.perf_counter() - began) * 1000)
print(json.dumps({"start_ms": start_ms, "requests_ms": timings}))
"""


def _try(arm: str, *, path: str, requests: int, token: str) -> dict:
    environment = {
        **os.environ,
        "BENCH_ARM": arm,
        "BENCH_PATH": path,
        "BENCH_REQUESTS": str(requests),
        "BENCH_TOKEN": token,
        "DEBUG": "False",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "API_THROTTLE_RATE": "1000000/minute",
        "INSIGHTS_CACHE_WARM": "False",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(*, path: str, tries: int, requests: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from bench.clients import manager_token
    from bench.measure import machine

    token = manager_token()
    runs: dict[str, list[dict]] = {arm: [] for arm in ARMS}
    for _ in range(tries):  # the arms alternate, so a change of load falls on both
        for arm in ARMS:
            runs[arm].append(_try(arm, path=path, requests=requests, token=token))
    summary = {}
    for arm, arm_runs in runs.items():
        summary[arm] = {
            "start_ms_median": statistics.median(run["start_ms"] for run in arm_runs),
            "first_request_ms_median": statistics.median(run["requests_ms"][0] for run in arm_runs),
            "later_requests_ms_median": statistics.median(
                ms for run in arm_runs for ms in run["requests_ms"][1:]
            )
            if requests > 1
            else None,
            "runs": arm_runs,
        }
    return {"path": path, "tries": tries, "requests": requests, "machine": machine(), **summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--path", default="/api/v1/insights/service/?preset=last_30_days")
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--requests", type=int, default=3)
    parser.add_argument("--json", dest="json_path")
    arguments = parser.parse_args()
    result = measure(path=arguments.path, tries=arguments.tries, requests=arguments.requests)
    for arm in ARMS:
        print(
            f"{arm:7} start {result[arm]['start_ms_median']:7.0f} ms   first request "
            f"{result[arm]['first_request_ms_median']:7.0f} ms   later "
            f"{result[arm]['later_requests_ms_median'] or 0:7.0f} ms   "
            f"(medians of {arguments.tries})"
        )
    if arguments.json_path:
        Path(arguments.json_path).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
