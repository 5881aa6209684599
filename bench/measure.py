"""The measurements of the scale benchmark (issue 7), each usable on its own.

Every step looks its subject up when it runs (import command, identity resolution, rebuild,
API routes): a part that does not exist yet gives {"status": "not available"} rather than an
error, so the harness runs on any state of the project.
"""

from __future__ import annotations

import csv
import importlib
import io
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command, get_commands
from django.db import OperationalError, connection, transaction
from django.urls import Resolver404, resolve

from customers.keys import email_key, phone_key

from . import direct_sql
from .datagen import LOST_REASONS

NOT_AVAILABLE = {"status": "not available"}
ENDPOINTS = (
    "growth", "demographics", "sales", "lost-reasons", "top-products", "rfm", "revenue",
    "customer-value",
    "lifecycle", "retention",
    "service",
)  # fmt: skip
PRESETS = ("last_7_days", "last_30_days", "last_90_days", "this_year", "last_year")
ROOT = Path(settings.BASE_DIR)

# Issue 7, at 1,000,000 people on a 2-core machine.
TARGETS = {
    "identity_full_s": 60.0,
    "identity_incremental_s": 5.0,
    "rebuild_full_s": 300.0,
    "rebuild_peak_rss_mb": 1024.0,
    "api_p95_ms": 50.0,
    "api_speedup": 20.0,
    "import_copy_ratio": 1 / 3,
    "lifecycle_p95_ms": 50.0,  # issue 14: lifecycle and retention, every preset and custom
}


def _optional(module: str, name: str) -> Callable[..., Any] | None:
    """The named function, or None while its module is missing or still half-written."""
    try:
        return getattr(importlib.import_module(module), name)
    except Exception:  # noqa: BLE001 - anything from a module being written means "not yet"
        return None


def machine() -> dict[str, Any]:
    import django

    cpu = ""
    meminfo = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            database = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            database = connection.vendor
    return {
        "nproc": os.cpu_count(),
        "memory": meminfo,
        "cpu": cpu,
        "database": database,
        "python": platform.python_version(),
        "django": django.get_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        # Other work on the machine skews every timing: record how busy it was.
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "git_head": _git_head(),
        "git_uncommitted": _git_uncommitted(),
    }


def _git_uncommitted() -> list[str]:
    """Python files changed but not committed: the run measured them too."""
    try:
        lines = subprocess.run(  # noqa: S603, S607 - fixed git command
            ["git", "status", "--short", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except OSError:
        return []
    return [line[3:] for line in lines if line.endswith(".py")]


def _git_head() -> str:
    """The commit measured; other engineers change the tree during runs, so name it."""
    try:
        return subprocess.run(  # noqa: S603, S607 - fixed git command
            ["git", "log", "-1", "--format=%h %s"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()[:120]
    except OSError:
        return ""


def _table_counts() -> dict[str, int]:
    tables = (
        "customers_customer", "customers_contact", "chats_chatcontact", "chats_chatroom",
        "deals_deal", "deals_dealitem",
    )  # fmt: skip
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
            counts[table] = cursor.fetchone()[0]
    return counts


# --- identity and rebuild -----------------------------------------------------------------------


def identity_run(*, full: bool) -> dict[str, Any]:
    """Time customers.identity.snapshot_rebuild in its own transaction."""
    snapshot_rebuild = _optional("customers.identity", "snapshot_rebuild")
    if snapshot_rebuild is None:
        return dict(NOT_AVAILABLE)
    began = time.perf_counter()
    with transaction.atomic():
        rows = snapshot_rebuild(full=full)
    return {"seconds": round(time.perf_counter() - began, 2), "rows": rows}


def _last_run() -> dict[str, Any]:
    model = _optional("insights.models", "RebuildRun")
    run = model.objects.order_by("-started_at", "-pk").first() if model else None
    if run is None:
        return {}
    return {
        "run_status": run.status,
        "run_seconds": run.duration_seconds,
        "timings": run.timings,
        "rows": run.rows,
        "error": run.error[:500],
    }


def rebuild_subprocess(*, full: bool = True) -> dict[str, Any]:
    """`manage.py rebuild_insights [--full]` in a child process: wall time and its peak RSS."""
    if "rebuild_insights" not in get_commands():
        return dict(NOT_AVAILABLE)
    command = [sys.executable, str(ROOT / "manage.py"), "rebuild_insights"]
    if full:
        command.append("--full")
    began = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - our own manage.py
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ.copy()
    )
    # wait4 gives the rusage of this child alone (RUSAGE_CHILDREN would mix in earlier ones).
    output = child.stdout.read() if child.stdout else b""
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - began
    result = {
        "seconds": round(seconds, 2),
        "exit_code": child.returncode,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "output_tail": output.decode("utf-8", "replace")[-800:],
    }
    result.update(_last_run())
    return result


def rebuild_in_process(*, full: bool) -> dict[str, Any]:
    insights_rebuild = _optional("insights.rebuild", "insights_rebuild")
    if insights_rebuild is None:
        return dict(NOT_AVAILABLE)
    began = time.perf_counter()
    run = insights_rebuild(trigger="bench", full=full, wait=True)
    result = {"seconds": round(time.perf_counter() - began, 2)}
    result.update(_last_run())
    result["run_status"] = getattr(run, "status", result.get("run_status"))
    return result


def database_analyze() -> dict[str, Any]:
    """VACUUM ANALYZE, as autovacuum would have done on a live database by the time users read.

    Right after a bulk load and a rebuild the planner still believes customer_id is NULL
    everywhere; the direct SQL would then pick nested loops and look far slower than it is.
    """
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"seconds": round(time.perf_counter() - began, 2)}


# --- the 1% change ------------------------------------------------------------------------------


def records_change(*, fraction: float = 0.01, seed: int = 1, new_share: float = 0.1) -> dict:
    """Change the email or phone of `fraction` of CRM and chat contacts; add a few contacts.

    Keys are recomputed with customers.keys, as the models' save() would. Half the changed
    records get a new number, half a new email; the new contacts (new_share of the changed
    count) reuse an existing person's phone, so they join an existing customer.
    """
    rng = np.random.default_rng(seed)
    changed = {}
    now = datetime.now(UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("customers_contact", "chats_chatcontact"):
            cursor.execute(f"SELECT min(id), max(id) FROM {table}")  # noqa: S608
            low, high = cursor.fetchone()
            if low is None:
                changed[table] = 0
                continue
            count = max(1, int((high - low + 1) * fraction))
            ids = np.unique(rng.integers(low, high + 1, count)).tolist()
            rows = []
            for i, record_id in enumerate(ids):
                if i % 2:
                    phone = (
                        f"0899-{(record_id * 7919 + seed) % 10_000:04d}-{record_id % 10_000:04d}"
                    )
                    rows.append((record_id, None, phone, None, phone_key(phone)))
                else:
                    email = f"Changed.{seed}.{record_id}@Example.co.id"
                    rows.append((record_id, email, None, email_key(email), None))
            cursor.execute(
                "CREATE TEMP TABLE bench_change (id bigint, email text, phone text, "
                "email_key text, phone_key text) ON COMMIT DROP"
            )
            with cursor.copy("COPY bench_change FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"""UPDATE {table} t SET
                    email = COALESCE(c.email, t.email),
                    email_key = COALESCE(c.email_key, t.email_key),
                    phone = COALESCE(c.phone, t.phone),
                    phone_key = COALESCE(c.phone_key, t.phone_key),
                    updated_at = %s
                FROM bench_change c WHERE c.id = t.id""",  # noqa: S608 - constant names
                [now],
            )
            changed[table] = cursor.rowcount
            cursor.execute("DROP TABLE bench_change")
        # New CRM contacts sharing the phone of existing ones.
        cursor.execute(
            "SELECT phone, phone_key FROM customers_contact WHERE phone_key LIKE '+628%%' "
            "ORDER BY id DESC LIMIT %s",
            [max(1, int(changed.get("customers_contact", 0) * new_share))],
        )
        pairs = cursor.fetchall()
        cursor.execute("SELECT COALESCE(max(id), 0) FROM customers_contact")
        next_id = cursor.fetchone()[0] + 1
        with cursor.copy(
            "COPY customers_contact (id, external_id, email, phone, email_key, phone_key, "
            "first_name, last_name, source, created_at, updated_at, resolved_email_key, "
            "resolved_phone_key) FROM STDIN"
        ) as copy:
            for offset, (phone, key) in enumerate(pairs):
                record_id = next_id + offset
                copy.write_row(
                    (record_id, f"c-new-{seed}-{record_id}", "", phone, "", key, "Baru", "",
                     "Website", now, now, "", "")
                )  # fmt: skip
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('customers_contact', 'id'), "
            "(SELECT max(id) FROM customers_contact))"
        )
        changed["new_contacts"] = len(pairs)
    return changed


def activity_change(*, fraction: float, seed: int = 1, new_share: float = 0.5) -> dict:
    """A day of sales and support work on `fraction` of the deals and of the chat rooms.

    Edited deals get a new amount and, every other one, the won stage with a close date
    today; edited rooms open a day later; new deals (won today, on existing contacts) and new
    rooms (on existing chat contacts) add new_share of the edited count. Plain SQL, as an
    importer writes: the change log's triggers see it as they see the admin.
    """
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    run = f"{seed}-{int(now.timestamp())}"  # external ids stay unique when a bench repeats
    changed: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM deals_pipelinestage WHERE outcome = 'won' ORDER BY id")
        won_stage = cursor.fetchone()[0]
        for table in ("deals_deal", "chats_chatroom"):
            cursor.execute(f"SELECT min(id), max(id) FROM {table}")  # noqa: S608
            low, high = cursor.fetchone()
            count = max(1, int((high - low + 1) * fraction))
            ids = np.unique(rng.integers(low, high + 1, count)).tolist()
            if table == "deals_deal":
                cursor.execute(
                    "UPDATE deals_deal SET amount = amount + 1, updated_at = %s, "
                    "stage_id = CASE WHEN id %% 2 = 0 THEN %s ELSE stage_id END, "
                    "closed_at = CASE WHEN id %% 2 = 0 THEN %s ELSE closed_at END "
                    "WHERE id = ANY(%s)",
                    [now, won_stage, now, ids],
                )
                changed["deals_edited"] = cursor.rowcount
                new = max(1, int(len(ids) * new_share))
                cursor.execute(
                    "INSERT INTO deals_deal (external_id, name, contact_id, stage_id, amount, "
                    "currency, created_at, closed_at, updated_at) "
                    "SELECT 'bench-new-' || %s || '-' || c.id, 'New deal', c.id, %s, 1500000, "
                    "'IDR', %s, %s, %s FROM customers_contact c WHERE c.id = ANY(%s)",
                    [run, won_stage, now, now, now, _random_ids(cursor, "customers_contact",
                                                                 new, rng)],
                )  # fmt: skip
                changed["deals_added"] = cursor.rowcount
            else:
                cursor.execute(
                    "UPDATE chats_chatroom SET created_at = created_at + interval '1 day' "
                    "WHERE id = ANY(%s)",
                    [ids],
                )
                changed["rooms_edited"] = cursor.rowcount
                new = max(1, int(len(ids) * new_share))
                cursor.execute(
                    "INSERT INTO chats_chatroom (external_id, chat_contact_id, created_at, agent) "
                    "SELECT 'bench-room-' || %s || '-' || c.id, c.id, %s, 'Sari' "
                    "FROM chats_chatcontact c WHERE c.id = ANY(%s)",
                    [run, now, _random_ids(cursor, "chats_chatcontact", new, rng)],
                )
                changed["rooms_added"] = cursor.rowcount
    return changed


def _random_ids(cursor, table: str, count: int, rng) -> list[int]:
    cursor.execute(f"SELECT min(id), max(id) FROM {table}")  # noqa: S608
    low, high = cursor.fetchone()
    return np.unique(rng.integers(low, high + 1, count)).tolist()


def day_of_work(*, fraction: float, seed: int) -> dict:
    """`fraction` of contacts, chat contacts, deals and rooms changed, as issue 19 counts it."""
    changed = records_change(fraction=fraction, seed=seed)
    changed.update(activity_change(fraction=fraction, seed=seed))
    return changed


# --- API against direct SQL ---------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _api_user():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.update_or_create(
        username="bench-admin", defaults={"is_superuser": True, "is_staff": True, "is_active": True}
    )
    return user


def api_latency(
    *,
    repeats: int = 20,
    sql_repeats: int = 5,
    sql_budget_s: float = 20.0,
    sql_timeout_s: float = 60.0,
    direct: bool = True,
    custom: bool = True,
) -> dict:
    """p50/p95 of each endpoint × preset through the test client, beside the direct SQL.

    With `custom`, also a start/end range that is no preset, to show an uncached request.
    Direct SQL runs once to warm up (and to compare figures), then up to `sql_repeats` times
    within about `sql_budget_s` seconds per endpoint and period (at least once). A query
    cancelled after `sql_timeout_s` counts as taking exactly that long: its speed-up is then a
    lower bound (`sql_lower_bound`).
    """
    from django.test import Client

    from insights.periods import Period, local_today, preset_period

    today = local_today()
    periods = [(name, f"preset={name}", preset_period(name, today)) for name in PRESETS]
    if custom:
        # A range no preset names: whatever the rebuild pre-computes for presets does not apply.
        period = Period(today - timedelta(days=120), today - timedelta(days=11))
        periods.append(("custom 110 days", f"start={period.start}&end={period.end}", period))
    results: list[dict[str, Any]] = []
    client = Client()
    client.force_login(_api_user())
    for endpoint in ENDPOINTS:
        path = f"/api/v1/insights/{endpoint}/"
        try:
            resolve(path)
        except Resolver404:
            results.append({"endpoint": endpoint, **NOT_AVAILABLE})
            continue
        for preset, query, period in periods:
            row: dict[str, Any] = {"endpoint": endpoint, "preset": preset}
            # The per-user throttle would answer 429 to a benchmark; its counter lives in cache.
            cache.clear()
            url = f"{path}?{query}"
            response = client.get(url)
            client.get(url)
            if response.status_code != 200:
                row.update(status=f"HTTP {response.status_code}", body=response.content[:300])
                results.append(row)
                continue
            body = response.json()
            times = []
            for _ in range(repeats):
                began = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - began) * 1000)
            row["api_p50_ms"] = round(statistics.median(times), 2)
            row["api_p95_ms"] = round(_percentile(times, 95), 2)
            if direct and connection.vendor == "postgresql":
                row.update(
                    _direct_timing(
                        endpoint=endpoint,
                        period=period,
                        body=body,
                        repeats=sql_repeats,
                        budget_s=sql_budget_s,
                        timeout_s=sql_timeout_s,
                    )
                )
                for q in ("50", "95"):
                    row[f"speedup_p{q}"] = round(
                        row[f"sql_p{q}_ms"] / max(row[f"api_p{q}_ms"], 1e-6), 1
                    )
            results.append(row)
    return {"rows": results, "repeats": repeats, "sql_repeats": sql_repeats}


def segment_latency(*, repeats: int = 20) -> dict[str, Any]:
    """Issue 17's targets: demographics with `limit` and rfm/revenue with `segment_id`.

    The bench segment is BENCH_SEGMENT_FILTERS (about 10% of the customers: 100,000 at a
    million). `cold` saves the segment before each request, so its cached answer is never
    used and every request materialises the segment's ids and reads CustomerWonDay; `warm`
    repeats the same request (the figure cache answers, as for a user paging back).
    """
    from django.test import Client

    from insights.customer_filters import segment_customers
    from insights.models import Segment

    from .datagen import BENCH_SEGMENT_FILTERS

    user = _api_user()
    segment, _ = Segment.objects.update_or_create(
        name="bench: 10% of customers",
        owner=user,
        defaults={"filters": BENCH_SEGMENT_FILTERS, "shared": False},
    )
    members = segment_customers(segment=segment).count()
    client = Client()
    client.force_login(user)
    rows: list[dict[str, Any]] = []

    def timed(url: str, *, before: Callable[[], None] | None = None) -> dict[str, Any]:
        cache.clear()  # the per-user throttle counter
        first = client.get(url)
        if first.status_code != 200:
            return {"status": f"HTTP {first.status_code}", "body": first.content[:300]}
        times = []
        for _ in range(repeats):
            if before is not None:
                before()
            began = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        return {
            "api_p50_ms": round(statistics.median(times), 2),
            "api_p95_ms": round(_percentile(times, 95), 2),
        }

    for preset in PRESETS:
        for limit in (10, 100):
            url = f"/api/v1/insights/demographics/?preset={preset}&limit={limit}"
            rows.append({"endpoint": f"demographics limit={limit}", "preset": preset, **timed(url)})
        for endpoint in ("rfm", "revenue"):
            url = f"/api/v1/insights/{endpoint}/?preset={preset}&segment_id={segment.pk}"
            rows.append(
                {"endpoint": f"{endpoint} segment cold", "preset": preset,
                 **timed(url, before=lambda: segment.save(update_fields=["updated_at"]))}
            )  # fmt: skip
            rows.append({"endpoint": f"{endpoint} segment warm", "preset": preset, **timed(url)})
    return {"segment_customers": members, "rows": rows, "repeats": repeats}


def _direct_timing(
    *, endpoint: str, period, body: dict, repeats: int, budget_s: float, timeout_s: float
) -> dict[str, Any]:
    """Latency of the direct SQL for one figure, and whether it agrees with the API body."""
    figure = direct_sql.DIRECT[endpoint]
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = %s", [int(timeout_s * 1000)])
    try:
        began = time.perf_counter()
        try:
            expected = figure(period)  # warm-up, and the figures to compare
        except OperationalError:  # statement_timeout: slower than the limit
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            ms = round(timeout_s * 1000, 2)
            return {"sql_p50_ms": ms, "sql_p95_ms": ms, "sql_samples": 0, "sql_lower_bound": True}
        warm = time.perf_counter() - began
        # Slow baselines get fewer samples (a slow one is its own warm-up), so 1M ends today.
        samples = min(repeats, int(budget_s / max(warm, 1e-3)))
        times = [warm * 1000] if samples < 1 else []
        for _ in range(samples):
            began = time.perf_counter()
            figure(period)
            times.append((time.perf_counter() - began) * 1000)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    out["sql_samples"] = len(times)
    out["sql_p50_ms"] = round(statistics.median(times), 2)
    out["sql_p95_ms"] = round(_percentile(times, 95), 2)
    try:
        got = direct_sql.api_figures(endpoint, body)
        out["agree"] = got == expected
        if not out["agree"]:
            out["diff"] = {
                k: {"api": got.get(k), "sql": expected.get(k)}
                for k in expected
                if got.get(k) != expected.get(k)
            }
    except (KeyError, TypeError) as error:
        out["agree"] = None
        out["diff"] = f"API body not as CONTRACT.md says: {error!r}"
    return out


# --- import_records against COPY ----------------------------------------------------------------

DEAL_COLUMNS = (
    "external_id", "name", "contact_external_id", "company_external_id", "stage", "outcome",
    "win_probability", "amount", "currency", "created_at", "closed_at", "lost_reason", "owner",
)  # fmt: skip
COPY_TABLE = """
    CREATE TEMP TABLE bench_copy_deals (
        external_id text, name text, contact_external_id text, company_external_id text,
        stage text, outcome text, win_probability smallint, amount numeric(18, 2),
        currency text, created_at timestamptz, closed_at timestamptz, lost_reason text,
        owner text
    )
"""


def deals_csv_write(*, path: Path, rows: int, seed: int = 3) -> int:
    """A deals file for `import_records deals`: fresh external ids, existing contacts."""
    rng = np.random.default_rng(seed)
    with connection.cursor() as cursor:
        cursor.execute(
            # Only the generated contacts: their external id is c-<id>.
            "SELECT min(id), max(id) FROM customers_contact WHERE external_id ~ '^c-[0-9]+$'"
        )
        low, high = cursor.fetchone()
    if low is None:
        raise RuntimeError("no generated contacts: run the generator first")
    contacts = rng.integers(low, high + 1, rows).tolist()
    stage = rng.choice(5, rows, p=(0.15, 0.1, 0.1, 0.4, 0.25)).tolist()
    names = (("Qualification", "open"), ("Proposal", "open"), ("Negotiation", "open"),
             ("Won", "won"), ("Lost", "lost"))  # fmt: skip
    amounts = np.round(rng.lognormal(np.log(2_500_000), 1.0, rows), -3).tolist()
    now = datetime.now(UTC).replace(microsecond=0)
    ages = rng.integers(1, 540, rows).tolist()
    reasons = rng.integers(0, len(LOST_REASONS), rows).tolist()
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DEAL_COLUMNS)
        for i in range(rows):
            created = now - timedelta(days=ages[i])
            name, outcome = names[stage[i]]
            closed = (created + timedelta(days=1)).isoformat() if outcome != "open" else ""
            writer.writerow(
                (f"imp-{seed}-{i}", f"Imported {i}", f"c-{contacts[i]}", "", name, outcome, "",
                 f"{amounts[i]:.2f}", "IDR", created.isoformat(), closed,
                 LOST_REASONS[reasons[i]] if outcome == "lost" else "", "")
            )  # fmt: skip
    return rows


def copy_file(*, path: Path) -> float:
    """Seconds PostgreSQL's COPY takes to load the file into a bare (unindexed) temp table."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(COPY_TABLE)
        began = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.copy("COPY bench_copy_deals FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_copy_deals")
    return seconds


def import_throughput(*, rows: int = 100_000, workdir: Path, seed: int = 3) -> dict[str, Any]:
    """import_records deals vs COPY of the same file; the imported deals are removed after."""
    if "import_records" not in get_commands():
        return dict(NOT_AVAILABLE)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"bench-deals-{rows}.csv"
    deals_csv_write(path=path, rows=rows, seed=seed)
    copy_seconds = copy_file(path=path)
    out, err = io.StringIO(), io.StringIO()
    began = time.perf_counter()
    exit_code = 0
    try:
        call_command("import_records", "deals", str(path), stdout=out, stderr=err)
    except SystemExit as error:  # the command exits 1 when rows were rejected
        exit_code = error.code if isinstance(error.code, int) else 1
    except Exception as error:  # noqa: BLE001 - reported in the results, not fatal to the run
        exit_code = repr(error)
    import_seconds = time.perf_counter() - began
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM deals_dealitem WHERE deal_id IN "
            "(SELECT id FROM deals_deal WHERE external_id LIKE %s)",
            [f"imp-{seed}-%"],
        )
        cursor.execute("DELETE FROM deals_deal WHERE external_id LIKE %s", [f"imp-{seed}-%"])
        removed = cursor.rowcount
    return {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_s": round(rows / copy_seconds),
        "import_seconds": round(import_seconds, 2),
        "import_rows_per_s": round(rows / import_seconds),
        # A command that crashed or loaded nothing has no speed: no ratio, so no "met".
        "ratio": round(copy_seconds / import_seconds, 3) if removed else None,
        "exit_code": exit_code,
        "summary": out.getvalue().strip().splitlines()[-1:] or err.getvalue()[-300:],
        "loaded_and_removed": removed,
    }


# --- targets ------------------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue-7 target with the measured number and met / missed / not measured."""

    def verdict(name: str, value: float | None, limit: float, higher_is_better: bool = False):
        if value is None:
            return {"target": name, "limit": limit, "value": None, "verdict": "not measured"}
        met = value >= limit if higher_is_better else value < limit
        return {
            "target": name,
            "limit": limit,
            "value": value,
            "verdict": "met" if met else "missed",
        }

    identity = results.get("identity_full", {})
    incremental = results.get("identity_incremental", {})
    rebuild = results.get("rebuild_full", {})
    api_rows = [
        r
        for r in (results.get("api") or {}).get("rows", [])
        if "api_p95_ms" in r and r.get("preset") in PRESETS
    ]
    worst_p95 = max((r["api_p95_ms"] for r in api_rows), default=None)
    speedups = [r["speedup_p50"] for r in api_rows if "speedup_p50" in r]
    fast = sum(1 for r in api_rows if r["api_p95_ms"] < TARGETS["api_p95_ms"])
    far = sum(1 for s in speedups if s >= TARGETS["api_speedup"])
    imported = results.get("import", {})
    lifecycle_rows = [
        r
        for r in (results.get("api") or {}).get("rows", [])
        if "api_p95_ms" in r and r.get("endpoint") in ("lifecycle", "retention")
    ]
    worst_lifecycle = max((r["api_p95_ms"] for r in lifecycle_rows), default=None)
    return [
        verdict(
            "identity resolution, full (s)", identity.get("seconds"), TARGETS["identity_full_s"]
        ),
        verdict(
            "identity resolution, incremental after 1% (s)",
            incremental.get("seconds"),
            TARGETS["identity_incremental_s"],
        ),
        verdict(
            "full rebuild incl. rollups (s)", rebuild.get("seconds"), TARGETS["rebuild_full_s"]
        ),
        verdict(
            "rebuild peak RSS (MB)", rebuild.get("peak_rss_mb"), TARGETS["rebuild_peak_rss_mb"]
        ),
        verdict(
            f"worst endpoint/preset p95 (ms); {fast}/{len(api_rows)} under",
            worst_p95,
            TARGETS["api_p95_ms"],
        ),
        verdict(
            f"lowest speedup vs direct SQL (x, p50); {far}/{len(speedups)} at 20x+",
            min(speedups) if speedups else None,
            TARGETS["api_speedup"],
            higher_is_better=True,
        ),
        verdict(
            "lifecycle and retention p95 incl. custom period (ms)",
            worst_lifecycle,
            TARGETS["lifecycle_p95_ms"],
        ),
        verdict(
            "import_records / COPY rows/s",
            imported.get("ratio"),
            TARGETS["import_copy_ratio"],
            higher_is_better=True,
        ),
    ]
