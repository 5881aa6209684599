"""The user's paths as a user runs them: each step a separate `manage.py` process.

The rest of the suite shares one connection per test, which hides what a fresh process meets
(issue 26: after the first edit every SQLite rebuild failed with "no such function: w_month",
because only the full path registered it). Here every step starts its own process on a fresh
database: SQLite always, PostgreSQL when DATABASE_URL points at one (a database of its own,
`<test database>_fresh`, dropped afterwards). Each path ends with a figure checked against its
expected value.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = "40"

# A figure read through the engine, printed as JSON: revenue and total customers of the ten
# years up to today (every demo deal), after the rebuild that ran last.
READ = """
import json
from datetime import timedelta
from insights import queries
from insights.periods import Period, local_today
today = local_today()
period = Period(today - timedelta(days=3650), today)
print("FIGURES " + json.dumps({
    "revenue": str(queries.revenue_kpis(period=period).revenue),
    "total_customers": queries.growth_overview(period=period).total_customers,
}))
"""

# A won deal of a customer, its amount raised by %(delta)s through the ORM (as the admin does).
EDIT = """
from decimal import Decimal
from deals.models import Deal
from insights.models import DealFact
won = DealFact.objects.filter(status="won", customer_id__isnull=False).order_by("deal_id")
deal = Deal.objects.get(pk=won.values_list("deal_id", flat=True)[0])
deal.amount = deal.amount + Decimal("%(delta)s")
deal.save()
"""

# A rebuild killed (SIGKILL) inside its transaction, after it rewrote the rollups.
KILLED = """
import os, signal
from insights.rebuild import insights_rebuild
def progress(phase, done, total):
    if phase == "customer_value":
        os.kill(os.getpid(), signal.SIGKILL)
insights_rebuild(trigger="killed", full=True, progress=progress)
"""


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    base = _postgres_url()
    if base is None:
        pytest.skip("DATABASE_URL is not PostgreSQL")
    import psycopg

    parts = urlsplit(base)
    # One database per pytest-xdist process: two processes sharing one dropped it under each other.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"test_{parts.path.lstrip('/')}_fresh_{worker}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Manage:
    """`manage.py` in a new process per call, on one database."""

    def __init__(self, database_url: str) -> None:
        self.env = {
            **os.environ,
            "DEBUG": "True",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": "",
        }

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args[:1])} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def shell(self, code: str, check: bool = True) -> subprocess.CompletedProcess:
        return self("shell", "-c", code, check=check)

    def figures(self) -> dict:
        out = self.shell(READ).stdout
        line = next(line for line in out.splitlines() if line.startswith("FIGURES "))
        return json.loads(line.removeprefix("FIGURES "))

    def rebuild(self) -> str:
        return self("rebuild_insights").stdout


@pytest.fixture
def manage(database_url) -> Manage:
    run = Manage(database_url)
    run("migrate", "--noinput", "-v", "0")
    run("seed_demo", "--people", PEOPLE)
    assert "(full) succeeded" in run.rebuild()
    return run


def test_edit_rebuild_edit_rebuild(manage):
    """Edits through the ORM, each followed by an incremental rebuild in a new process."""
    before = manage.figures()
    manage.shell(EDIT % {"delta": "1000.00"})
    assert "(incremental) succeeded" in manage.rebuild()
    manage.shell(EDIT % {"delta": "234.56"})
    assert "(incremental) succeeded" in manage.rebuild()
    after = manage.figures()
    assert after["revenue"] == str(float_free(before["revenue"]) + float_free("1234.56"))
    assert after["total_customers"] == before["total_customers"]


def test_import_then_rebuild(manage, tmp_path):
    """Two new people imported from a CSV file are two more customers after the rebuild."""
    before = manage.figures()
    csv = tmp_path / "contacts.csv"
    csv.write_text(
        "external_id,first_name,email,created_at\n"
        "fresh-1,Ayu,ayu.fresh@example.com,2026-01-05T10:00:00+07:00\n"
        "fresh-2,Budi,budi.fresh@example.com,2026-01-06T10:00:00+07:00\n",
        encoding="utf-8",
    )
    manage("import_records", "contacts", str(csv))
    assert "succeeded" in manage.rebuild()
    assert manage.figures()["total_customers"] == before["total_customers"] + 2


def test_killed_rebuild_then_rebuild(manage):
    """A rebuild killed mid-transaction leaves the last figures; the next one succeeds."""
    before = manage.figures()
    manage.shell(EDIT % {"delta": "500.00"})
    killed = manage.shell(KILLED, check=False)
    assert killed.returncode == -9, killed.stderr
    assert manage.figures() == before  # the killed run rolled back: the last figures stand
    assert "succeeded" in manage.rebuild()
    after = manage.figures()
    assert after["revenue"] == str(float_free(before["revenue"]) + float_free("500.00"))


def float_free(text: str):
    """An exact decimal of a reported figure (never a float)."""
    from decimal import Decimal

    return Decimal(text)
