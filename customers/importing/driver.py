"""The batch driver: streams the CSV, validates each row, and hands batches to a loader."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import TextIO

from django.conf import settings
from django.db import connections, transaction

from customers.importing.cells import Cells
from customers.importing.kinds import KINDS
from customers.importing.loaders import DealItemLoader, DealLoader, Loader
from customers.importing.results import ImportFileError, ImportResult, Rejection, Row

BATCH_SIZE = 5000

# --- Reading --------------------------------------------------------------------------------


# A cell may hold a long note, but a quote never closed would read the rest of the file into
# one cell: past this size the file is refused, so memory stays bounded whatever the file.
MAX_CELL_CHARS = 16 * 1024 * 1024


def csv_records(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
    """(physical line where the record starts, cells); the header is line 1, blank lines skipped."""
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
    reader = csv.reader(stream)
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFileError(
                f"line {previous_end + 1}: {error}; the rows before it were loaded"
            ) from None
        start = previous_end + 1
        previous_end = reader.line_num
        if not cells or all(not cell.strip() for cell in cells):
            continue
        yield start, cells


_HEADER_CLEAN = re.compile(r"^\ufeff")


def _forget_logged_queries() -> None:
    """Drop the SQL text Django keeps of every statement while DEBUG is on.

    It keeps the last 9000 statements, and one batch upsert interpolates thousands of rows:
    a 1,000,000-row import held ~250 MB of SQL text (bench/import_memory.py). A test that
    counts queries sets force_debug_cursor, and its log is left alone.
    """
    if settings.DEBUG:
        for conn in connections.all(initialized_only=True):
            if not conn.force_debug_cursor:
                conn.queries_log.clear()


def import_records(
    *,
    kind: str,
    stream: TextIO,
    atomic: bool = False,
    on_rejection: Callable[[Rejection, list[str]], None] | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Load one CSV stream of `kind`; see CONTRACT.md section 1 for every rule.

    `on_rejection(rejection, header)` is called for each rejected row in line order;
    `progress(n)` after each batch with the rows it held. Raises ImportFileError (nothing
    loaded) when the header lacks a required column. With atomic=True nothing is kept when
    any row is rejected, and the counts returned are then all zero except `rejected`.
    """
    spec = KINDS[kind]
    rows = csv_records(stream)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError("the file is empty: a header row is required") from None
    header = [_HEADER_CLEAN.sub("", name).strip() for name in header]
    missing = [name for name in spec.required if name not in header]
    if missing:
        raise ImportFileError(f"missing required column(s): {', '.join(missing)}")

    loader = (
        DealItemLoader if kind == "deal_items" else DealLoader if kind == "deals" else Loader
    )(spec, header)
    result = ImportResult()

    def emit(rejections: list[Rejection]) -> None:
        result.rejected += len(rejections)
        if on_rejection:
            for rejection in sorted(rejections, key=lambda r: r.line):
                on_rejection(rejection, header)

    def flush(batch: list[Row], rejections: list[Rejection]) -> None:
        if batch:
            if atomic:
                loader.load(batch, result, rejections)
            else:
                with transaction.atomic():
                    loader.load(batch, result, rejections)
        emit(rejections)
        if progress:
            progress(len(batch) + len(rejections))
        _forget_logged_queries()

    spec_refs = spec.refs()
    with transaction.atomic() if atomic else nullcontext():
        batch: list[Row] = []
        rejections: list[Rejection] = []
        keys_in_batch: set[str] = set()
        for line, cells in rows:
            record = dict(zip(header, cells, strict=False))
            parsed = Cells(record)
            values = spec.parse(parsed)
            for column, cell in record.items():
                if "\x00" in cell:
                    # PostgreSQL text cannot hold NUL; refuse the row rather than fail the batch.
                    parsed.fail(column, "contains a NUL character")
            refs = {}
            for ref in spec_refs:
                value = record.get(ref.column, "").strip()
                if value:
                    refs[ref.column] = value
            if parsed.errors:
                rejections.append(Rejection(line, cells, parsed.errors))
                continue
            key = values.get("external_id")
            if key is not None and key in keys_in_batch:
                # The same record twice in a batch: write the first before reading the second,
                # so one upsert statement never touches a row twice.
                flush(batch, rejections)
                batch, rejections, keys_in_batch = [], [], set()
            if key is not None:
                keys_in_batch.add(key)
            batch.append(Row(line, cells, values, refs))
            if len(batch) + len(rejections) >= batch_size:
                flush(batch, rejections)
                batch, rejections, keys_in_batch = [], [], set()
        flush(batch, rejections)
        if atomic and result.rejected:
            transaction.set_rollback(True)
            return ImportResult(rejected=result.rejected)
    return result
