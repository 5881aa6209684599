"""`python manage.py bench_insights --people N`: the scale benchmark of issue 7.

See docs/BENCHMARKS.md for the results and how to read them.
"""

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

SECTIONS = (
    "import",
    "identity",
    "rebuild",
    "api",
    "segments",
    "incremental",
    "incremental-rebuild",
)


class Command(BaseCommand):
    help = (
        "Generate a data set of N people with COPY (unless --skip-generate) and measure import, "
        "identity resolution, rebuild, incremental rebuild, peak RSS and API latency against "
        "direct SQL. PostgreSQL only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, required=True)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--skip-generate", action="store_true", help="measure the data there")
        parser.add_argument("--json", dest="json_path", help="default bench/results/bench-N.json")
        parser.add_argument(
            "--skip", default="", help=f"comma-separated sections to skip: {', '.join(SECTIONS)}"
        )
        parser.add_argument("--import-rows", type=int, default=100_000)
        parser.add_argument("--api-repeats", type=int, default=20)
        parser.add_argument("--sql-repeats", type=int, default=5)
        parser.add_argument(
            "--sql-budget", type=float, default=20.0, help="seconds of direct SQL per figure"
        )
        parser.add_argument(
            "--sql-timeout", type=float, default=60.0, help="cancel one direct query after"
        )

    def handle(self, *args, people: int, seed: int, skip_generate: bool, json_path: str | None,
               skip: str, import_rows: int, api_repeats: int, sql_repeats: int,
               sql_budget: float, sql_timeout: float, **options) -> None:  # fmt: skip
        from bench import measure
        from bench.datagen import dataset_generate
        from bench.report import results_table

        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_insights measures PostgreSQL: set DATABASE_URL=postgres://... "
                "(the generator alone runs on SQLite for smoke tests, up to 5,000 people)"
            )
        skipped = {s.strip() for s in skip.split(",") if s.strip()}
        if unknown := skipped - set(SECTIONS):
            raise CommandError(f"--skip: unknown section(s) {', '.join(sorted(unknown))}")
        json_file = Path(
            json_path or Path(settings.BASE_DIR) / f"bench/results/bench-{people}.json"
        )
        results: dict = {}
        if skip_generate and json_file.exists():
            # Resuming on the same data: keep the sections measured before.
            results = json.loads(json_file.read_text(encoding="utf-8"))
            results.setdefault("resumed", []).append(
                {"command": " ".join(sys.argv[1:]), "machine": measure.machine()}
            )
        else:
            results = {
                "command": "python manage.py bench_insights " + " ".join(sys.argv[2:]),
                "people": people,
                "seed": seed,
                "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": measure.machine(),
            }

        def step(name: str, run) -> None:
            self.stderr.write(f"[{time.strftime('%H:%M:%S')}] {name}...")
            load_before = [round(x, 2) for x in os.getloadavg()]
            results[name] = run()
            if isinstance(results[name], dict):
                # The machine is shared: keep the load next to each figure, not only per run.
                results[name]["load_average_before"] = load_before
                results[name]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
                results[name]["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
            self.stderr.write(f"    {json.dumps(results[name], default=str)[:400]}")
            self._save(json_file, results)

        if not skip_generate:
            step(
                "generation",
                lambda: dataset_generate(
                    people=people,
                    seed=seed,
                    progress=lambda done, total: self.stderr.write(f"    {done:,}/{total:,}"),
                ),
            )
        if "identity" not in skipped:
            step("identity_full", lambda: measure.identity_run(full=True))
        if "rebuild" not in skipped:
            step("rebuild_full", lambda: measure.rebuild_subprocess(full=True))
        if "api" not in skipped:
            step("vacuum_analyze", measure.database_analyze)
            step(
                "api",
                lambda: measure.api_latency(
                    repeats=api_repeats,
                    sql_repeats=sql_repeats,
                    sql_budget_s=sql_budget,
                    sql_timeout_s=sql_timeout,
                ),
            )
        if "segments" not in skipped:
            step("segments", lambda: measure.segment_latency(repeats=api_repeats))
        if "incremental" not in skipped:
            step("change_1pct_a", lambda: measure.records_change(fraction=0.01, seed=seed + 1))
            step("identity_incremental", lambda: measure.identity_run(full=False))
        if "incremental-rebuild" not in skipped:
            # Issue 19: the default rebuild after 0.1% and 1% of contacts, chat contacts, deals
            # and rooms changed, and with nothing changed since (the same day).
            step("change_01pct", lambda: measure.day_of_work(fraction=0.001, seed=seed + 3))
            step("rebuild_incremental_01pct", lambda: measure.rebuild_in_process(full=False))
            step("change_1pct_b", lambda: measure.day_of_work(fraction=0.01, seed=seed + 2))
            step("rebuild_incremental", lambda: measure.rebuild_in_process(full=False))
            step("rebuild_unchanged", lambda: measure.rebuild_in_process(full=False))
        if "import" not in skipped:
            step(
                "import",
                lambda: measure.import_throughput(
                    rows=import_rows, workdir=Path(tempfile.gettempdir()) / "wawasan-bench"
                ),
            )
        results["tables"] = measure._table_counts()
        results["targets"] = measure.targets(results)
        results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
        self._save(json_file, results)
        self.stdout.write(results_table(results))
        self.stdout.write(f"JSON: {json_file}")

    @staticmethod
    def _save(path: Path, results: dict) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
