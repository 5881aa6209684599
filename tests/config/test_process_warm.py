"""The server entry points import every view at start, so no request pays for it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Modules a bare `django.setup()` leaves unimported and the first request would import.
VIEW_MODULES = ("config.urls", "insights.api.views", "insights.dashboards.views", "imports.urls")


def _modules_loaded_after(statement: str) -> dict[str, bool]:
    script = (
        "import os, sys\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        f"{statement}\n"
        f"print(','.join(str(m in sys.modules) for m in {VIEW_MODULES!r}))\n"
    )
    environment = {**os.environ, "DEBUG": "True"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    flags = result.stdout.strip().splitlines()[-1].split(",")
    return dict(zip(VIEW_MODULES, (flag == "True" for flag in flags), strict=True))


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
def test_the_server_entry_points_import_every_view(entry_point):
    # when: a server process loads its application
    loaded = _modules_loaded_after(f"import {entry_point}")
    # then: the views are there before the first request
    assert loaded == dict.fromkeys(VIEW_MODULES, True)


def test_django_setup_alone_leaves_the_views_to_the_first_request():
    # The control: without the warm-up these modules wait for a request, so the test above
    # measures the warm-up and not Django's own start.
    loaded = _modules_loaded_after("import django; django.setup()")
    assert loaded == dict.fromkeys(VIEW_MODULES, False)
