"""Peak memory of `manage.py import_records contacts` on a 1,000,000-row file (issue 8).

    .venv/bin/python bench/import_memory.py [--rows N] [--database-url URL]

Writes /tmp/wawasan-import-<N>.csv (one row in 1000 bad, so the rejected file is exercised
too), migrates the target database (default: a fresh SQLite file in /tmp, never ./db.sqlite3),
runs the import in a subprocess and prints its wall time, exit code, summary and maximum
resident set size (ru_maxrss of the child, from wait4). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def csv_write(path: Path, rows: int, bad_every: int = 1000) -> None:
    """Contacts with distinct emails and phones; every `bad_every`th row has an impossible
    date (1: a hostile file whose every row is rejected)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["external_id", "first_name", "last_name", "email", "phone", "source", "created_at"]
        )
        for n in range(rows):
            created = (
                "2026-13-01"
                if n % bad_every == bad_every - 1
                else f"2025-{n % 12 + 1:02d}-15T10:00:00"
            )
            writer.writerow(
                [
                    f"m-{n}",
                    f"Ani{n}",
                    "Wijaya",
                    f"ani{n}@contoh.id",
                    f"+62812{n:08d}",
                    ("Ads", "Referral", "Event")[n % 3],
                    created,
                ]
            )


def run(argv: list[str], env: dict[str, str]) -> tuple[int, float, int, str, str]:
    """(exit code, seconds, max RSS in KiB, stdout, stderr tail) of one child process."""
    started = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
    ):
        # Files, not pipes: a child filling a pipe nobody reads would block; wait4 then gives
        # the child's own rusage.
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return process.returncode, seconds, usage.ru_maxrss, out.read(), err.read()[-600:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="sqlite:////tmp/wawasan-import-memory.sqlite3")
    parser.add_argument("--bad-every", type=int, default=1000, help="1: every row rejected")
    parser.add_argument("--no-migrate", action="store_true", help="the database is migrated")
    args = parser.parse_args()

    path = Path(f"/tmp/wawasan-import-{args.rows}-{args.bad_every}.csv")
    started = time.perf_counter()
    csv_write(path, args.rows, args.bad_every)
    size = path.stat().st_size / 2**20
    print(f"wrote {path} ({size:.0f} MiB) in {time.perf_counter() - started:.1f}s")

    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    env = {"DEBUG": "True", **os.environ, "DATABASE_URL": args.database_url}
    python = sys.executable
    if not args.no_migrate:
        subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    baseline = run([python, "manage.py", "check"], env)
    code, seconds, rss, out, err = run(
        [python, "manage.py", "import_records", "contacts", str(path)], env
    )
    print(f"import_records contacts: exit {code} in {seconds:.1f}s, {out.strip()}")
    print(f"stderr tail: ...{err.strip()[-200:]}")
    print(f"max RSS: {rss / 1024:.0f} MiB (a bare `manage.py check`: {baseline[2] / 1024:.0f} MiB)")


if __name__ == "__main__":
    main()
