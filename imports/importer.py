"""Loading CSV files into the domain (CONTRACT.md section 1): `import_records KIND PATH`.

The file is streamed in batches: each batch resolves its references with one query per
referenced table, compares itself with the rows already stored (one query) and writes with one
bulk upsert, so a load costs a handful of queries per few thousand rows, never one per row.
A row is validated whole before anything of it is written, so it is never half-written.
On PostgreSQL the kinds with the most rows (contacts, deals, chat rooms) are COPied into a
staging table and checked and upserted in set-based SQL (imports.fast), with the same report.
"""

from collections.abc import Callable
from typing import Any, BinaryIO, TextIO, cast

from imports import driver, fast
from imports.driver import BATCH_SIZE, Limits, announce, records_imported
from imports.kinds import KINDS, Kind
from imports.results import (
    ImportFileError,
    ImportResult,
    Rejection,
    rejected_rows_writer,
)

__all__ = [
    "BATCH_SIZE",
    "KINDS",
    "ImportFileError",
    "ImportResult",
    "Kind",
    "Rejection",
    "import_records",
    "records_imported",
    "rejected_rows_writer",
]


def import_records(
    *,
    kind: str,
    stream: TextIO | BinaryIO,
    atomic: bool = False,
    on_rejection: Callable[[Rejection, list[str]], None] | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    limits: Limits | None = None,
    **options: Any,
) -> ImportResult:
    """Load one CSV stream of `kind` (CONTRACT.md section 1): through COPY on PostgreSQL when
    the kind and the file allow it (imports.fast), else the portable path (imports.driver).
    Both report the same rows with the same reasons; see driver.import_records for the rest.

    Other `options` go to the portable path: the Import CSV page's per-row `rights` and
    per-batch `dry_run`. The COPY path takes the page's files too when the user's rights are
    ones it writes exactly (imports.fast.rights_allow: a user who sees every record); a sales
    rep's rows are checked one by one on the portable path.
    """
    limits = limits or Limits.from_settings()
    rights, dry_run = options.get("rights"), bool(options.get("dry_run"))
    if (
        set(options) <= {"rights", "dry_run"}
        and not (dry_run and atomic)
        and fast.applies(kind=kind, stream=stream)
        and fast.rights_allow(kind, rights)
    ):
        result = fast.import_fast(
            spec=KINDS[kind],
            stream=cast(BinaryIO, stream),
            atomic=atomic,
            on_rejection=on_rejection,
            progress=progress,
            batch_size=batch_size,
            limits=limits,
            rights=rights,
            dry_run=dry_run,
        )
        if result is not None:
            return announce(kind, result, dry_run=dry_run)
        stream.seek(0)
    return driver.import_records(
        kind=kind,
        stream=stream,
        atomic=atomic,
        on_rejection=on_rejection,
        progress=progress,
        batch_size=batch_size,
        limits=limits,
        **options,
    )
