"""The batch driver: streams the CSV, validates each row, and hands batches to a loader."""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import BinaryIO, TextIO

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
from imports.scoping import RowRights

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000

# --- Reading --------------------------------------------------------------------------------


# Sent after a load that created or updated rows, with `kind` and `result` (an ImportResult).
records_imported = Signal()

# Limits on one record, so memory stays bounded whatever the file holds (settings may change
# them): a cell, a whole row, and the physical lines one row may span. A quote never closed
# would otherwise read the rest of the file into one cell.
MAX_CELL_CHARS = 2 * 1024 * 1024
MAX_ROW_CHARS = 8 * 1024 * 1024
MAX_ROW_LINES = 200


@dataclass(frozen=True)
class Limits:
    cell_chars: int = MAX_CELL_CHARS
    row_chars: int = MAX_ROW_CHARS
    row_lines: int = MAX_ROW_LINES

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            cell_chars=getattr(settings, "WAWASAN_IMPORT_MAX_CELL_CHARS", MAX_CELL_CHARS),
            row_chars=getattr(settings, "WAWASAN_IMPORT_MAX_ROW_CHARS", MAX_ROW_CHARS),
            row_lines=getattr(settings, "WAWASAN_IMPORT_MAX_ROW_LINES", MAX_ROW_LINES),
        )


@dataclass
class _Line:
    number: int
    text: str
    too_long: bool = False


class _Lines:
    """The physical lines of a stream with their numbers; lines can be given back to be read
    again. A line longer than the row limit is not kept: it comes back as `too_long`."""

    def __init__(self, stream: TextIO | BinaryIO, limit: int):
        self.binary = _is_binary(stream)
        self.readline = stream.readline
        self.limit = limit
        self.number = 0
        self.pending: deque[_Line] = deque()

    def pull(self) -> _Line | None:
        if self.pending:
            return self.pending.popleft()
        raw = self.readline(self.limit + 1)
        if not raw:
            return None
        self.number += 1
        newline = b"\n" if self.binary else "\n"
        if len(raw) > self.limit and not raw.endswith(newline):  # type: ignore[arg-type]
            while (rest := self.readline(65536)) and not rest.endswith(newline):  # type: ignore[arg-type]
                pass
            return _Line(self.number, "", too_long=True)
        if self.binary:
            if self.number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)  # type: ignore[arg-type]
            text = raw.decode("utf-8", "surrogateescape")  # type: ignore[union-attr]
        else:
            text = raw
        return _Line(self.number, text)

    def give_back(self, lines: list[_Line]) -> None:
        self.pending.extendleft(reversed(lines))


class _Overflow(Exception):
    """The record being read went past a limit."""


class _Feed:
    """The lines csv.reader reads, one record at a time, within the record limits."""

    def __init__(self, lines: _Lines, limits: Limits):
        self.lines, self.limits = lines, limits
        self.buffer: list[_Line] = []
        self.chars = 0
        self.eof = False

    def start(self) -> None:
        self.buffer, self.chars, self.eof = [], 0, False

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        line = self.lines.pull()
        if line is None:
            self.eof = True
            raise StopIteration
        if not self.buffer:
            self.buffer.append(line)
            if line.too_long:
                raise _Overflow(f"the row is longer than {self.limits.row_chars:,} characters")
            self.chars = len(line.text)
            return line.text
        # A continuation line: the record is inside a quoted cell.
        if len(self.buffer) >= self.limits.row_lines:
            self.lines.give_back([line])
            raise _Overflow(f"a quoted cell is not closed within {self.limits.row_lines} lines")
        if line.too_long or self.chars + len(line.text) > self.limits.row_chars:
            self.lines.give_back([line])
            raise _Overflow(
                f"the row is longer than {self.limits.row_chars:,} characters"
                " (a quoted cell not closed?)"
            )
        self.buffer.append(line)
        self.chars += len(line.text)
        return line.text


def _delimiter(first_line: str) -> str:
    """`;` when the header has more of them than commas (Excel's default where the decimal
    separator is a comma, as in Indonesian), else `,`."""
    outside_quotes = re.sub(r'"[^"]*"', "", first_line)
    return ";" if outside_quotes.count(";") > outside_quotes.count(",") else ","


# A record csv_records gives: (line where it starts, cells, reason it cannot be read or None).
Record = tuple[int, list[str], str | None]


def csv_records(stream: TextIO | BinaryIO, *, limits: Limits | None = None) -> Iterator[Record]:
    """(physical line where the record starts, cells, None), or (line, [first line], reason)
    for a record that cannot be read; the header is line 1, blank lines are skipped.

    A binary stream is decoded line by line: bytes that are not UTF-8 come through as lone
    surrogates (surrogateescape), so only the record holding them is rejected (not_utf8). A
    record over the limits (a quote never closed, a huge row) is rejected alone and the lines
    after its first are read again as records of their own.
    """
    limits = limits or Limits.from_settings()
    csv.field_size_limit(max(csv.field_size_limit(), limits.row_chars + 1))
    lines = _Lines(stream, limits.row_chars)
    first = lines.pull()
    if first is None:
        return
    lines.give_back([first])
    feed = _Feed(lines, limits)
    reader = csv.reader(feed, delimiter=_delimiter(first.text))
    while True:
        feed.start()
        reason = None
        try:
            cells = next(reader)
        except StopIteration:
            if not feed.buffer:
                return
            cells, reason = [], "could not be read"
        except _Overflow as overflow:
            cells, reason = [], str(overflow)
        except csv.Error as error:
            cells, reason = [], f"not readable as CSV: {error}"
        else:
            # The reader asks for another line only inside a quoted cell: at the end of the
            # file that cell was never closed.
            if feed.eof:
                reason = "a quoted cell is not closed before the end of the file"
        if reason is not None:
            head = feed.buffer[0]
            # The lines after the first are read again: the quote that swallowed them was bad.
            lines.give_back(feed.buffer[1:])
            yield head.number, [head.text.rstrip("\r\n")[: limits.cell_chars]], reason
            continue
        if not cells or all(not cell.strip() for cell in cells):
            continue
        yield feed.buffer[0].number, cells, None


def _is_binary(stream: TextIO | BinaryIO) -> bool:
    return isinstance(stream, io.RawIOBase | io.BufferedIOBase) or "b" in getattr(
        stream, "mode", ""
    )


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
    limits: Limits | None = None,
    rights: RowRights | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Load one CSV stream of `kind`; see CONTRACT.md section 1 for every rule.

    `stream` is text, or binary UTF-8 (then a row with bytes that are not UTF-8 is rejected
    alone; a text stream that fails to decode can only stop the load). `on_rejection(rejection,
    header)` is called for each rejected row in line order; `progress(n)` after each batch with
    the rows it held. Raises ImportFileError (nothing loaded) when the header lacks a required
    column or names one twice. With atomic=True nothing is kept when any row is rejected, and
    the counts returned are then all zero except `rejected`.

    `rights` (the Import CSV page) rejects the rows its user may not write by the admin's rules
    (imports.scoping); the command passes none. With dry_run=True each batch is written and
    rolled back in its own transaction, so row locks last one batch, never the whole file.
    """
    if dry_run and atomic:
        raise ValueError("a dry run keeps nothing: atomic does not apply")
    spec = KINDS[kind]
    limits = limits or Limits.from_settings()
    rows = csv_records(stream, limits=limits)
    try:
        _, header, unreadable = next(rows)
    except StopIteration:
        raise ImportFileError("the file is empty: a header row is required") from None
    if unreadable:
        raise ImportFileError(f"line 1: the header: {unreadable}")
    header = header_checked(spec, header)
    with transaction.atomic() if atomic else nullcontext():
        loop = RecordLoop(
            spec=spec,
            header=header,
            on_rejection=on_rejection,
            progress=progress,
            batch_size=batch_size,
            limits=limits,
            rights=rights,
            dry_run=dry_run,
        )
        for record in rows:
            loop.feed(record)
        result = loop.finish()
        if atomic and result.rejected:
            transaction.set_rollback(True)
            return ImportResult(rejected=result.rejected)
    return announce(kind, result, dry_run=dry_run)


def announce(kind: str, result: ImportResult, *, dry_run: bool = False) -> ImportResult:
    if (result.created or result.updated) and not dry_run:
        # The importer writes in bulk, which sends no model signals: say so once, so the
        # figures can follow the load (a receiver that waits for the commit hears nothing
        # of a dry run, which rolls back).
        records_imported.send(sender=ImportResult, kind=kind, result=result)
    return result


def header_checked(spec: Kind, header: list[str]) -> list[str]:
    """The header's names cleaned; ImportFileError when one is missing or named twice."""
    if not_utf8(header):
        raise ImportFileError("line 1: the header is not UTF-8")
    header = [_HEADER_CLEAN.sub("", name).strip() for name in header]
    missing = [name for name in spec.required if name not in header]
    if missing:
        raise ImportFileError(f"missing required column(s): {', '.join(missing)}")
    repeated = sorted(name for name, count in Counter(header).items() if name and count > 1)
    if repeated:
        # Which of the two cells would count is anyone's guess: refuse rather than pick one.
        raise ImportFileError(f"column(s) named twice in the header: {', '.join(repeated)}")
    return header


LOADERS: dict[str, type[Loader]] = {
    "deal_items": DealItemLoader,
    "deals": DealLoader,
    "survey_responses": SurveyLoader,
    "deal_changes": DealChangeLoader,
}


def loader_for(spec: Kind, header: list[str]) -> Loader:
    default = KeyedLoader if spec.name in KEYED_KINDS else Loader
    return LOADERS.get(spec.name, default)(spec, header)


class RecordLoop:
    """Validates records one by one and loads them in batches (the portable path, and the
    rows the COPY path leaves to it). Memory stays bounded by the batch size: rejected rows
    leave with their batch, and progress counts them as read."""

    def __init__(
        self,
        *,
        spec: Kind,
        header: list[str],
        on_rejection: Callable[[Rejection, list[str]], None] | None,
        progress: Callable[[int], None] | None,
        batch_size: int,
        limits: Limits,
        loader: Loader | None = None,
        result: ImportResult | None = None,
        rights: RowRights | None = None,
        dry_run: bool = False,
    ):
        self.spec, self.header, self.limits = spec, header, limits
        self.on_rejection, self.progress, self.batch_size = on_rejection, progress, batch_size
        self.loader = loader or loader_for(spec, header)
        # The import page's per-row permission check (imports.scoping); None: full rights.
        self.loader.rights = rights
        self.dry_run = dry_run
        self.result = result or ImportResult()
        self.batch: list[Row] = []
        self.rejections: list[Rejection] = []
        self.keys_in_batch: set[Hashable] = set()

    def feed(self, record: Record) -> None:
        line, cells, unreadable = record
        row = (
            Rejection(line, _printable(cells), [("", unreadable)])
            if unreadable
            else _row_parse(self.spec, self.header, line, cells, self.limits)
        )
        if isinstance(row, Rejection):
            self.rejections.append(row)
        else:
            key = self.spec.batch_key(row)
            if key is not None and key in self.keys_in_batch:
                # The same record twice in a batch: write the first before reading the second,
                # so one upsert statement never touches a row twice.
                self.flush()
            if key is not None:
                self.keys_in_batch.add(key)
            self.batch.append(row)
        if len(self.batch) + len(self.rejections) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, rejections = self.batch, self.rejections
        self.batch, self.rejections, self.keys_in_batch = [], [], set()
        if batch:
            with _rolled_back() if self.dry_run else nullcontext():
                _load_or_isolate(self.loader, batch, self.result, rejections)
        self.result.rejected += len(rejections)
        if self.on_rejection:
            for rejection in sorted(rejections, key=lambda r: r.line):
                self.on_rejection(rejection, self.header)
        if self.progress:
            self.progress(len(batch) + len(rejections))
        _forget_logged_queries()

    def finish(self) -> ImportResult:
        if self.batch or self.rejections:
            self.flush()
        return self.result


@contextmanager
def _rolled_back() -> Iterator[None]:
    """One dry-run batch: written, then rolled back at once, releasing its row locks.

    A stage or lost reason the batch created is remembered by the loader with an id that no
    longer exists; later batches of the dry run refer to it and roll back too, so it is never
    checked (foreign keys are deferred to the commit on both databases).
    """
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _row_parse(
    spec: Kind, header: list[str], line: int, cells: list[str], limits: Limits
) -> Row | Rejection:
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
    long = [name for name, cell in record.items() if len(cell) > limits.cell_chars]
    if long:
        reason = f"longer than {limits.cell_chars:,} characters"
        return Rejection(line, cells, [(name, reason) for name in long])
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
