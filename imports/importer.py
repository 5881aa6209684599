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

    Other `options` go to the portable path, which alone applies them: given any, the file
    takes it (the Import CSV page's per-row rights and per-batch dry run).
    """
    limits = limits or Limits.from_settings()
    if not any(options.values()) and fast.applies(kind=kind, stream=stream):
        result = fast.import_fast(
            spec=KINDS[kind],
            stream=cast(BinaryIO, stream),
            atomic=atomic,
            on_rejection=on_rejection,
            progress=progress,
            batch_size=batch_size,
            limits=limits,
        )
        if result is not None:
            return announce(kind, result)
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
