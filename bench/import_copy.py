"""`import_records` against PostgreSQL's COPY, per kind (issues 33); not part of the test suite.

    DATABASE_URL=postgres://... .venv/bin/python bench/import_copy.py [--rows N] [--kinds ...]
        [--paths copy copy_nobulk portable] [--triggers] [--no-reload]

For contacts, deals, chat_rooms and deal_items it writes an N-row file to /tmp (the same file
for the same N, whichever checkout runs this script), then measures in one run: COPY of the
file into a bare typed temp table; each path asked for (`copy`: the COPY path, `copy_nobulk`:
the COPY path with `WAWASAN_IMPORT_BULK=False`, `portable`: `WAWASAN_IMPORT_COPY=False`), each
into a table without the benchmark's rows; then the COPY path again on the same file (every
row unchanged; not with `--no-reload`). `--triggers` also loads each kind with its table's
user triggers disabled, to price the change log and the deal history. Prints one JSON line
per kind with the load average. For an A/B against another checkout, copy this file into its
bench/ and run it there.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "True")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from imports.importer import import_records  # noqa: E402

PREFIX = "bench33"
COPY_TYPES = {
    "contacts": "external_id text, first_name text, last_name text, email text, phone text, "
    "source text, country text, created_at timestamptz",
    "deals": "external_id text, name text, contact_external_id text, stage text, outcome text, "
    "amount numeric(18, 2), currency text, created_at timestamptz, closed_at timestamptz",
    "chat_rooms": "external_id text, chat_contact_external_id text, created_at timestamptz, "
    "first_response_at timestamptz, resolved_at timestamptz, agent text, csat_score smallint",
    "deal_items": "deal_external_id text, product_external_id text, quantity numeric(18, 2), "
    "unit_price numeric(18, 2)",
}
TABLES = {
    "contacts": "customers_contact",
    "deals": "deals_deal",
    "chat_rooms": "chats_chatroom",
}


def write_file(kind: str, rows: int) -> Path:
    path = Path(f"/tmp/{PREFIX}-{kind}-{rows}.csv")
    stages = (("Qualification", "open"), ("Won", "won"), ("Lost", "lost"))
    with path.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        if kind == "contacts":
            w.writerow(["external_id", "first_name", "last_name", "email", "phone", "source",
                        "country", "created_at"])  # fmt: skip
            for n in range(rows):
                w.writerow([f"{PREFIX}-c-{n}", f"Ani{n}", "Wijaya", f"ani{n}@contoh.id",
                            f"+62812{n:08d}", ("Ads", "Referral")[n % 2], "ID",
                            f"2025-{n % 12 + 1:02d}-15T10:00:00"])  # fmt: skip
        elif kind == "deals":
            w.writerow(["external_id", "name", "contact_external_id", "stage", "outcome",
                        "amount", "currency", "created_at", "closed_at"])  # fmt: skip
            for n in range(rows):
                stage, outcome = stages[n % 3]
                closed = "2025-06-01T10:00:00" if outcome != "open" else ""
                w.writerow([f"{PREFIX}-d-{n}", f"Deal {n}", f"{PREFIX}-gc-{n % 1000}", stage,
                            outcome, f"{(n % 977) * 1000}.00", "IDR", "2025-05-01T10:00:00",
                            closed])  # fmt: skip
        elif kind == "chat_rooms":
            w.writerow(["external_id", "chat_contact_external_id", "created_at",
                        "first_response_at", "resolved_at", "agent", "csat_score"])  # fmt: skip
            for n in range(rows):
                w.writerow([f"{PREFIX}-r-{n}", f"{PREFIX}-cc-{n % 1000}", "2025-05-01T10:00:00",
                            "2025-05-01T10:03:00", "2025-05-01T11:00:00", f"agent{n % 20}",
                            n % 5 + 1])  # fmt: skip
        else:
            w.writerow(["deal_external_id", "product_external_id", "quantity", "unit_price"])
            for n in range(rows):
                w.writerow([f"{PREFIX}-d-{n // 2}", f"{PREFIX}-p-{n % 50}", n % 3 + 1,
                            "25000.00"])  # fmt: skip
    return path


def given(rows: int) -> None:
    """What the files refer to: 1000 chat contacts, 1000 contacts (the deals'), 50 products,
    and the deals of the deal_items file (loaded by the COPY path, untimed, if missing)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_contact (external_id, email, phone, email_key, phone_key, "
            "resolved_email_key, resolved_phone_key, first_name, last_name, source, city, "
            "country, created_at, updated_at) "
            "SELECT %s || g, '', '', '', '', '', '', 'Ani', '', '', '', '', now(), now() "
            "FROM generate_series(0, 999) g ON CONFLICT DO NOTHING",
            [f"{PREFIX}-gc-"],
        )
        cursor.execute(
            "INSERT INTO chats_chatcontact (external_id, channel, name, email, phone, email_key, "
            "phone_key, resolved_email_key, resolved_phone_key, created_at, updated_at) "
            "SELECT %s || g, 'whatsapp', '', '', '', '', '', '', '', now(), now() "
            "FROM generate_series(0, 999) g ON CONFLICT DO NOTHING",
            [f"{PREFIX}-cc-"],
        )
        cursor.execute(
            "INSERT INTO deals_product (external_id, name, sku) "
            "SELECT %s || g, 'Produk ' || g, '' FROM generate_series(0, 49) g "
            "ON CONFLICT DO NOTHING",
            [f"{PREFIX}-p-"],
        )


def copy_seconds(kind: str, path: Path) -> float:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE bench_copy ({COPY_TYPES[kind]})")
        began = time.perf_counter()
        with (
            path.open("rb") as handle,
            cursor.cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as cp,
        ):
            while block := handle.read(1 << 20):
                cp.write(block)
        seconds = time.perf_counter() - began
        cursor.execute("DROP TABLE bench_copy")
    return seconds


def deals_for_items(rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM deals_deal WHERE external_id LIKE %s", [f"{PREFIX}-d-%"]
        )
        if cursor.fetchone()[0] < (rows + 1) // 2:
            load("deals", write_file("deals", rows), copy=True)


def load(kind: str, path: Path, *, copy: bool, bulk: bool = True) -> tuple[float, str]:
    settings.WAWASAN_IMPORT_COPY = copy
    settings.WAWASAN_IMPORT_BULK = bulk
    began = time.perf_counter()
    with path.open("rb") as stream:
        result = import_records(kind=kind, stream=stream)
    return time.perf_counter() - began, result.summary()


def remove(kind: str) -> None:
    """The benchmark's rows of `kind` (and of what refers to them), then VACUUM ANALYZE."""
    ours = [f"{PREFIX}-%"]
    with connection.cursor() as cursor:
        if kind in ("deal_items", "deals"):
            cursor.execute(
                "DELETE FROM deals_dealitem WHERE deal_id IN "
                "(SELECT id FROM deals_deal WHERE external_id LIKE %s)",
                ours,
            )
        if kind == "deals":
            cursor.execute(
                "DELETE FROM deals_dealchange WHERE deal_id IN "
                "(SELECT id FROM deals_deal WHERE external_id LIKE %s)",
                ours,
            )
        if kind == "contacts":
            cursor.execute(
                "DELETE FROM customers_contact WHERE external_id LIKE %s",
                [f"{PREFIX}-c-%"],
            )
        elif kind != "deal_items":
            cursor.execute(f"DELETE FROM {TABLES[kind]} WHERE external_id LIKE %s", ours)
    for table in (TABLES.get(kind) or "deals_dealitem", "deals_dealchange"):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")


def changed_records() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM insights_changedrecord")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--kinds", nargs="*", default=["contacts", "deals", "chat_rooms",
                                                       "deal_items"])  # fmt: skip
    parser.add_argument("--paths", nargs="*", default=["portable", "copy"])
    parser.add_argument("--triggers", action="store_true")
    parser.add_argument("--no-reload", action="store_true")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "set DATABASE_URL to a PostgreSQL database"
    for kind in ("deal_items", "deals", "chat_rooms", "contacts"):  # an earlier run's rows
        remove(kind)
    given(args.rows)
    for kind in args.kinds:
        path = write_file(kind, args.rows)
        if kind == "deal_items":
            deals_for_items(args.rows)
        out: dict[str, object] = {"kind": kind, "rows": args.rows}
        out["load_average_before"] = [round(x, 1) for x in os.getloadavg()]
        copy = copy_seconds(kind, path)
        out.update(copy_s=round(copy, 2), copy_rows_per_s=round(args.rows / copy))
        for name in args.paths:
            remove(kind)
            before = changed_records()
            seconds, summary = load(
                kind, path, copy=name.startswith("copy"), bulk=name != "copy_nobulk"
            )
            out[f"{name}_path_s"] = round(seconds, 2)
            out[f"{name}_path_rows_per_s"] = round(args.rows / seconds)
            out[f"{name}_path_vs_copy"] = round(copy / seconds, 3)
            out[f"{name}_path_summary"] = summary
            out[f"{name}_path_change_log_rows"] = changed_records() - before
        if not args.no_reload:
            again, summary = load(kind, path, copy=True)
            out.update(reload_s=round(again, 2), reload_summary=summary)
        if args.triggers:
            # The change-log (and deal history) triggers' share: the same load with the
            # table's user triggers switched off (rolled back).
            remove(kind)
            table = TABLES.get(kind, "deals_dealitem")
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                quiet, _ = load(kind, path, copy=True)
                transaction.set_rollback(True)
            out["copy_without_triggers_s"] = round(quiet, 2)
            load(kind, path, copy=True)  # the rows again (the deals, for deal_items)
        out["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
