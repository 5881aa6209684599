"""`python manage.py rebuild_insights`: rebuild snapshot and rollups now (CONTRACT.md section 3)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from insights.models import RebuildRun
from insights.rebuild import insights_rebuild


class _TerminalProgress:
    """One tqdm bar per phase, on stderr, only when it is a terminal."""

    def __init__(self) -> None:
        self.bar: tqdm | None = None
        self.phase: str | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase != self.phase:
            self.close()
            self.bar = tqdm(total=total or None, desc=phase, file=sys.stderr, leave=True)
            self.phase = phase
        assert self.bar is not None
        self.bar.total = total or None
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = "Rebuild the customer snapshot and every insights rollup, synchronously."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--full", action="store_true", help="resolve every record again, not only changes"
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="wait for a running rebuild to finish instead of skipping",
        )

    def handle(self, *args: Any, full: bool = False, wait: bool = False, **options: Any) -> None:
        progress = _TerminalProgress() if sys.stderr.isatty() else None
        try:
            run = insights_rebuild(
                trigger="manage.py rebuild_insights", full=full, progress=progress, wait=wait
            )
        except Exception as error:
            raise CommandError(f"rebuild failed: {type(error).__name__}: {error}") from error
        finally:
            if progress:
                progress.close()
        if run.status == RebuildRun.Status.SKIPPED:
            raise CommandError("another rebuild is running; skipped (use --wait to wait for it)")
        if run.status == RebuildRun.Status.UNCHANGED:
            self.stdout.write(
                self.style.SUCCESS(
                    f"rebuild {run.pk}: nothing changed since the last rebuild today "
                    f"({run.duration_seconds:.1f}s); its figures stay current"
                )
            )
            return
        rollups = sum(
            value
            for key, value in run.rows.items()
            if not key.startswith("snapshot_")
            and key
            not in (
                "figure_cache",
                "rollup_format",
                "incremental",
                "changed_records",
                "customer_value_kept",
                "changed_customers",
            )
        )
        how = "incremental" if run.rows.get("incremental") else "full"
        self.stdout.write(
            self.style.SUCCESS(
                f"rebuild {run.pk} ({how}) succeeded in {run.duration_seconds:.1f}s: "
                f"{rollups} rollup rows, {run.rows.get('figure_cache', 0)} figures cached"
            )
        )
