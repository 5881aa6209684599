"""What the Import CSV page's per-row rules and the erasure's reach into import files cost.

    DATABASE_URL=postgres://... .venv/bin/python bench/import_rights.py [--rows N]

Migrates the database named by DATABASE_URL (use a scratch one), then times on one file of N
deals, each load on fresh external ids: the command's path (no rights), the page's path for a
superuser and for a sales rep (imports.scoping), each again on the same ids (every row
unchanged), a dry run (one rolled-back transaction per batch), and the erasure's scan of an
upload of N contact rows (privacy.import_traces). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "True")  # the development key; queries are not kept


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    rows = parser.parse_args().rows

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.roles import SALES_REP
    from deals.models import PipelineStage
    from imports.importer import import_records
    from imports.scoping import RowRights
    from privacy.import_traces import PersonMatcher, file_names_person

    users = get_user_model()
    boss, _ = users.objects.get_or_create(username="bench-boss", is_superuser=True, is_staff=True)
    rep, _ = users.objects.get_or_create(username="bench-rep", is_staff=True)
    rep.groups.add(Group.objects.get(name=SALES_REP))
    PipelineStage.objects.get_or_create(name="Proposal", defaults={"order": 1})

    def deals(prefix: str) -> str:
        lines = ["external_id,name,stage,amount,created_at,owner"]
        lines += [
            f"{prefix}-{n},Deal {n},Proposal,{n % 1000 + 1},2026-01-05T09:00:00,bench-rep"
            for n in range(rows)
        ]
        return "\n".join(lines) + "\n"

    def timed(label: str, prefix: str, **kwargs) -> None:
        text = deals(prefix)
        started = time.perf_counter()
        result = import_records(kind="deals", stream=io.StringIO(text), **kwargs)
        seconds = time.perf_counter() - started
        print(f"| {label} | {seconds:.2f} | {rows / seconds:,.0f} | {result.summary()} |")

    print("| load of N deals | s | rows/s | result |")
    print("|---|---|---|---|")
    for label, prefix, kwargs in [
        ("command (no rights), new", "c", {}),
        ("command, same file again", "c", {}),
        ("page rules, superuser, new", "s", {"rights": RowRights(user=boss)}),
        ("page rules, superuser, again", "s", {"rights": RowRights(user=boss)}),
        ("page rules, sales rep, new", "r", {"rights": RowRights(user=rep)}),
        ("page rules, sales rep, again", "r", {"rights": RowRights(user=rep)}),
        ("dry run, sales rep, new ids", "d", {"rights": RowRights(user=rep), "dry_run": True}),
    ]:
        timed(label, prefix, **kwargs)

    print()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"
        with path.open("w", encoding="utf-8") as out:
            out.write("external_id,first_name,last_name,email,phone,created_at\n")
            for n in range(rows):
                out.write(f"c-{n},Ani{n},Wijaya,ani{n}@contoh.id,+62812{n:08d},2026-01-05\n")
        matcher = PersonMatcher(
            needles={"nur.nasution@contoh.id", "+6281299999999", "Nur Nasution"},
            keys={"nur.nasution@contoh.id", "+6281299999999"},
            external_ids={"c-nur"},
            names=[("Nur", "Nasution")],
        )
        size = path.stat().st_size / 1024 / 1024
        for case in ("absent", "on the last line"):
            if case != "absent":
                with path.open("a", encoding="utf-8") as out:
                    out.write("c-x,Budi,Santoso,b@contoh.id,0812-9999-9999,2026-01-05\n")
            started = time.perf_counter()
            found = file_names_person(path, matcher)
            seconds = time.perf_counter() - started
            print(
                f"erasure scan of a {size:.1f} MB upload ({rows:,} rows), person {case}: "
                f"{seconds:.2f} s ({found=})"
            )


if __name__ == "__main__":
    main()
