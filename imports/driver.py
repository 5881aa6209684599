"""The batch driver: streams the CSV, validates each row, and hands batches to a loader."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import nullcontext
from typing import BinaryIO, TextIO, cast

from django.conf import settings
from django.db import connections, transaction
from django.dispatch import Signal

from imports.cells import Cells
from imports.kinds import KEYED_KINDS, KINDS, Kind
from imports.loaders import (
    DealChangeLoader,
    DealItemLoader,
    DealLoader,
    KeyedLoader,
    Loader,
    SurveyLoader,
)
from imports.results import ImportFileError, ImportResult, Rejection, Row

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000

# --- Reading --------------------------------------------------------------------------------


# Sent after a load that created or updated rows, with `kind` and `result` (an ImportResult).
records_imported = Signal()

# A cell may hold a long note, but a quote never closed would read the rest of the file into
# one cell: past this size the file is refused, so memory stays bounded whatever the file.
MAX_CELL_CHARS = 16 * 1024 * 1024


def csv_records(stream: TextIO | BinaryIO) -> Iterator[tuple[int, list[str]]]:
    """(physical line where the record starts, cells); the header is line 1, blank lines skipped.

    A binary stream is decoded line by line: bytes that are not UTF-8 come through as lone
    surrogates (surrogateescape), so only the record holding them is rejected (not_utf8).
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_CHARS))
    lines: Iterator[str] | TextIO = (
        _decoded_lines(cast(BinaryIO, stream)) if _is_binary(stream) else cast(TextIO, stream)
    )
    reader = csv.reader(lines)
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


def _is_binary(stream: TextIO | BinaryIO) -> bool:
    return isinstance(stream, io.RawIOBase | io.BufferedIOBase) or "b" in getattr(
        stream, "mode", ""
    )


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    first = True
    for raw in stream:
        if first:
            raw = raw.removeprefix(codecs.BOM_UTF8)
            first = False
        yield raw.decode("utf-8", "surrogateescape")


# What surrogateescape makes of a byte that is not UTF-8.
_NOT_UTF8 = re.compile("[\udc80-\udcff]")


def not_utf8(cells: list[str]) -> bool:
    return any(_NOT_UTF8.search(cell) for cell in cells)


def _printable(cells: list[str]) -> list[str]:
    """The cells with undecodable bytes as U+FFFD, so the rejected file can be written."""
    return [_NOT_UTF8.sub("\ufffd", cell) for cell in cells]


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
    stream: TextIO | BinaryIO,
    atomic: bool = False,
    on_rejection: Callable[[Rejection, list[str]], None] | None = None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportResult:
    """Load one CSV stream of `kind`; see CONTRACT.md section 1 for every rule.

    `stream` is text, or binary UTF-8 (then a row with bytes that are not UTF-8 is rejected
    alone; a text stream that fails to decode can only stop the load). `on_rejection(rejection,
    header)` is called for each rejected row in line order; `progress(n)` after each batch with
    the rows it held. Raises ImportFileError (nothing loaded) when the header lacks a required
    column or names one twice. With atomic=True nothing is kept when any row is rejected, and
    the counts returned are then all zero except `rejected`.
    """
    spec = KINDS[kind]
    rows = csv_records(stream)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError("the file is empty: a header row is required") from None
    if not_utf8(header):
        raise ImportFileError("line 1: the header is not UTF-8")
    header = [_HEADER_CLEAN.sub("", name).strip() for name in header]
    missing = [name for name in spec.required if name not in header]
    if missing:
        raise ImportFileError(f"missing required column(s): {', '.join(missing)}")
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        # Which of the two cells would count is anyone's guess: refuse rather than pick one.
        raise ImportFileError(f"column(s) named twice in the header: {', '.join(repeated)}")

    loaders: dict[str, type[Loader]] = {
        "deal_items": DealItemLoader,
        "deals": DealLoader,
        "survey_responses": SurveyLoader,
        "deal_changes": DealChangeLoader,
    }
    default = KeyedLoader if kind in KEYED_KINDS else Loader
    loader = loaders.get(kind, default)(spec, header)
    result = ImportResult()

    def emit(rejections: list[Rejection]) -> None:
        result.rejected += len(rejections)
        if on_rejection:
            for rejection in sorted(rejections, key=lambda r: r.line):
                on_rejection(rejection, header)

    def flush(batch: list[Row], rejections: list[Rejection]) -> None:
        if batch:
            _load_or_isolate(loader, batch, result, rejections)
        emit(rejections)
        if progress:
            progress(len(batch) + len(rejections))
        _forget_logged_queries()

    with transaction.atomic() if atomic else nullcontext():
        batch: list[Row] = []
        rejections: list[Rejection] = []
        keys_in_batch: set[Hashable] = set()
        for line, cells in rows:
            row = _row_parse(spec, header, line, cells)
            if isinstance(row, Rejection):
                rejections.append(row)
                continue
            key = spec.batch_key(row)
            if key is not None and key in keys_in_batch:
                # The same record twice in a batch: write the first before reading the second,
                # so one upsert statement never touches a row twice.
                flush(batch, rejections)
                batch, rejections, keys_in_batch = [], [], set()
            if key is not None:
                keys_in_batch.add(key)
            batch.append(row)
            if len(batch) + len(rejections) >= batch_size:
                flush(batch, rejections)
                batch, rejections, keys_in_batch = [], [], set()
        flush(batch, rejections)
        if atomic and result.rejected:
            transaction.set_rollback(True)
            return ImportResult(rejected=result.rejected)
    if result.created or result.updated:
        # The importer writes in bulk, which sends no model signals: say so once, so the
        # figures can follow the load (a receiver that waits for the commit hears nothing
        # of a dry run, which rolls back).
        records_imported.send(sender=ImportResult, kind=kind, result=result)
    return result


def _row_parse(spec: Kind, header: list[str], line: int, cells: list[str]) -> Row | Rejection:
    """One record validated whole: a Row to write, or its Rejection with every reason."""
    if not_utf8(cells):
        return Rejection(line, _printable(cells), [("", "not UTF-8")])
    if len(cells) > len(header):
        return Rejection(
            line,
            cells,
            [("", f"{len(cells)} cells but the header has {len(header)} columns")],
        )
    record = dict(zip(header, cells, strict=False))
    parsed = Cells(record)
    try:
        values = spec.parse(parsed)
    except Exception as error:  # noqa: BLE001 - a surprise in one row rejects that row only
        logger.exception("import %s line %s: unexpected error", spec.name, line)
        return Rejection(line, cells, [("", f"could not be read ({type(error).__name__})")])
    for column, cell in record.items():
        if "\x00" in cell:
            # PostgreSQL text cannot hold NUL; refuse the row rather than fail the batch.
            parsed.fail(column, "contains a NUL character")
    if parsed.errors:
        return Rejection(line, cells, parsed.errors)
    refs = {}
    for ref in spec.refs():
        value = record.get(ref.column, "").strip()
        if value:
            refs[ref.column] = value
    return Row(line, cells, values, refs)


def _load_or_isolate(
    loader: Loader, batch: list[Row], result: ImportResult, rejections: list[Rejection]
) -> None:
    """Write a batch in one savepoint; if it fails, write its rows one by one.

    An error no check foresaw (a database limit, a bug) then rejects the rows that cause it,
    each with its own reason, and every other row of the batch still loads.
    """
    pristine = [(row, dict(row.values), list(row.errors)) for row in batch]
    counts = (result.created, result.updated, result.unchanged)
    state = loader.checkpoint()
    found: list[Rejection] = []
    try:
        with transaction.atomic():
            loader.load(batch, result, found)
    except Exception:  # noqa: BLE001 - isolated below, row by row, and logged there
        logger.warning("import batch failed; loading its %s rows one by one", len(batch))
    else:
        rejections.extend(found)
        return
    result.created, result.updated, result.unchanged = counts
    loader.restore(state)
    for row, values, errors in pristine:
        row.values, row.errors = dict(values), list(errors)
        state = loader.checkpoint()
        before = (result.created, result.updated, result.unchanged)
        one: list[Rejection] = []
        try:
            with transaction.atomic():
                loader.load([row], result, one)
        except Exception as error:  # noqa: BLE001 - this row is rejected, the rest load
            logger.exception("import line %s: unexpected error", row.line)
            result.created, result.updated, result.unchanged = before
            loader.restore(state)
            one = [Rejection(row.line, row.raw, [("", f"could not be saved ({error})")])]
        rejections.extend(one)
