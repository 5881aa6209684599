"""The import at COPY speed (PostgreSQL): the file is copied into a staging table, checked and
upserted in set-based SQL, and every row the SQL is not sure of goes through the portable path.

The SQL never rejects a row and never writes a reason: it only *accepts* rows it can prove the
portable rules (imports.kinds, imports.cells) would accept, and computes the same values for
them. Every other row (a blank required cell, a timestamp in a rarer ISO 8601 form, a stage to
create, a reference not found, the same key twice in a batch, ...) is read back from the
staging table and loaded by imports.driver.RecordLoop, the portable path itself. So each
rejected row is reported by the same code with the same line, column and reason, whichever
path the file takes.

The file takes the COPY path only when COPY reads it exactly as Python's csv module does: one
record per physical line (the row count equals the line count), no NUL byte, no lone carriage
return, no quote in the middle of an unquoted cell, no `\\.` line, valid UTF-8, the column
count of the header on every line and every cell and row within the reader's limits. When COPY
fails or any of these does not hold, nothing was written yet: the staging is rolled back and
the whole file goes through the portable path. Memory stays bounded either way: the file is
streamed in 1 MB blocks, the rows the portable path takes are read back one batch at a time.
"""

from __future__ import annotations

import codecs
import csv
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from accounts.admin_scoping import may_add, may_change
from chats.models import ChatContact, ChatRoom
from common.bulk_write import deferred_checks_run, foreign_keys_of
from customers.keys import phone_key
from customers.models import Company, Contact
from deals.models import Deal, DealChange, DealItem, LostReason, PipelineStage, Product
from imports.cells import EARLIEST_YEAR, LATEST_YEAR, field_length
from imports.driver import RecordLoop, _delimiter, _is_binary, header_checked
from imports.kinds import KINDS, Kind
from imports.results import ImportResult, Rejection
from imports.scoping import RowRights

# The kinds with a COPY path. The others stay on the portable path: the catalogues (stages,
# rates, targets, holidays) are a few hundred rows at most, where COPY gains nothing; survey
# answers and deal history have rules across rows (exactly one of two references; a blank
# cell keeps the deal's previous recorded value) not written in SQL yet.
FAST_KINDS = ("contacts", "deals", "chat_rooms", "deal_items")
# Rows checked and upserted per statement; the portable path reads its rows back per batch.
FAST_BATCH = 100_000
# Bytes of the file sent to COPY at a time.
COPY_BLOCK = 1 << 20
# Rows the portable path reads back from the staging table per query.
SLOW_PAGE = 5000
# Memory for the sorts of one batch (per sort, this transaction only).
SORT_MEMORY = "256MB"
STAGE = "imports_stage"
BATCH = "imports_stage_batch"
PHONES = "imports_stage_phone"
STAGES = "imports_stage_stages"
REASONS = "imports_stage_reasons"
ITEMS = "imports_stage_items"
DUPS = "imports_stage_dups"
TEMP_TABLES = ", ".join((STAGE, BATCH, PHONES, STAGES, REASONS, ITEMS, DUPS))

# What Python's str.strip() removes: btrim() with this set gives the same cell.
PY_SPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def applies(*, kind: str, stream: Any) -> bool:
    """Whether `kind` from `stream` may take the COPY path (it may still fall back)."""
    return (
        kind in FAST_KINDS
        and connection.vendor == "postgresql"
        and getattr(settings, "WAWASAN_IMPORT_COPY", True)
        and _binary_seekable(stream)
    )


def rights_allow(kind: str, rights: RowRights | None) -> bool:
    """Whether the page's rules for this user write, on the rows the SQL accepts, exactly
    what the SQL writes: a user who sees every record and may add and change the kind's
    records (for deal items: change deals). A sales rep's rows are checked one by one
    against their own records (imports.scoping), on the portable path."""
    if rights is None:
        return True
    if rights.scoped:
        return False
    if kind == "deal_items":
        return may_change(rights.user, Deal)
    model = KINDS[kind].model
    return may_add(rights.user, model) and may_change(rights.user, model)


def _binary_seekable(stream: Any) -> bool:
    try:
        return _is_binary(stream) and stream.seekable() and stream.tell() == 0
    except (AttributeError, OSError, ValueError):
        return False


class _Fallback(Exception):
    """The file must take the portable path (nothing has been written)."""


def import_fast(
    *,
    spec: Kind,
    stream: BinaryIO,
    atomic: bool,
    on_rejection: Callable[[Rejection, list[str]], None] | None,
    progress: Callable[[int], None] | None,
    batch_size: int,
    limits: Any,
    rights: RowRights | None = None,
    dry_run: bool = False,
) -> ImportResult | None:
    """Load the file through COPY; None when it must take the portable path instead.

    `rights` (the Import CSV page) must be ones `rights_allow` accepts: the SQL then writes
    what the page's rules write for such a user (a new contact or deal without an owner is
    the uploader's); the rows left to the portable path are checked by the rules themselves.
    With `dry_run` each batch is written and rolled back, as on the portable path.
    """
    first = stream.readline(limits.row_chars + 1)
    if not first.endswith(b"\n") or b'"' in first:
        return None
    try:
        text = first.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError:
        return None
    delimiter = _delimiter(text)
    header = header_checked(spec, next(csv.reader([text], delimiter=delimiter)))
    plan = PLANS[spec.name](spec, header)
    if rights is not None and plan.owned:
        plan.new_owner = rights.user.pk
    plan.dry_run = dry_run
    try:
        with transaction.atomic():
            rows = _stage(stream, header, delimiter, limits)
    except (_Fallback, DatabaseError, psycopg.Error, UnicodeDecodeError):
        _drop()
        return None
    # A dry run writes nothing that lasts: dropping indexes for it would only lock the table.
    bulk = [] if dry_run else bulk_tables(plan, rows)
    try:
        # A bulk load is one transaction whatever `atomic` says: the indexes and foreign keys
        # are dropped and built again inside it, so no other session ever sees them missing.
        with (
            transaction.atomic() if atomic or bulk else _nothing(),
            _rebuilt_after(bulk) as taken,
        ):
            plan.locked = plan.model._meta.db_table in taken
            result = ImportResult()
            loop = RecordLoop(
                spec=spec,
                header=header,
                on_rejection=on_rejection,
                progress=progress,
                batch_size=batch_size,
                limits=limits,
                result=result,
                rights=rights,
                dry_run=dry_run,
            )
            # Deal items replace a deal's items: every row of a deal must be in one batch.
            step = (rows or 1) if plan.whole_file else FAST_BATCH
            for low in range(1, rows + 1, step):
                high = min(rows, low + step - 1)
                with transaction.atomic():
                    accepted = plan.load(low, high, result)
                if progress and accepted:
                    progress(accepted)
                for record in _slow_rows(header, low, high):
                    loop.feed(record)
                loop.finish()
            if atomic and result.rejected:
                transaction.set_rollback(True)
                return ImportResult(rejected=result.rejected)
            return result
    finally:
        _drop()


# A table gets the bulk load when the file has at least this many rows for each row stored:
# building an index from sorted rows costs a few times less per row than inserting into it, so
# the rebuild pays once the file is about as large as the table (a first import).
BULK_FILE_PER_TABLE_ROW = 1.0
# Memory for the index builds after a bulk load (this transaction only).
INDEX_MEMORY = "256MB"


def bulk_tables(plan: Plan, rows: int) -> list[str]:
    """The tables the load writes that are small beside the file: each is locked for the
    import's transaction, its secondary indexes and foreign keys dropped and built again after
    the load (_rebuilt_after). A larger table keeps them (the load then costs what each row's
    index entries and foreign-key checks cost)."""
    if not rows or not getattr(settings, "WAWASAN_IMPORT_BULK", True):
        return []
    quote = connection.ops.quote_name
    out = []
    with connection.cursor() as cursor:
        for table in plan.bulk_candidates():
            # Counted up to the limit only: at most as many rows as the file's are read.
            limit = int(rows / BULK_FILE_PER_TABLE_ROW)
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM {quote(table)} LIMIT {limit + 1}) t"
            )
            if cursor.fetchone()[0] <= limit:
                out.append(table)
    return out


# Set while a bulk load's transaction is open: the Import CSV page's progress is then written
# through a connection of its own (imports.jobs), or it would show only at the commit.
_BULK_LOAD: ContextVar[bool] = ContextVar("imports_bulk_load", default=False)


def bulk_load_running() -> bool:
    return _BULK_LOAD.get()


@contextmanager
def _rebuilt_after(tables: list[str]) -> Iterator[list[str]]:
    """Inside the import's transaction: lock `tables`, drop their secondary (non-unique)
    indexes and their foreign keys; after the load build the indexes from the sorted rows and
    add the foreign keys again, which checks every reference in one query per key instead of
    one per row at the commit. The primary key and the unique indexes stay (the upsert's
    ON CONFLICT needs `external_id`'s). On an error or a rollback (--atomic with a rejected
    row) nothing is built: the rollback restores the indexes and keys as they were. Yields the
    tables taken: none when the database refuses the change (a role that does not own the
    tables), and the load then keeps the indexes."""
    if not tables:
        yield []
        return
    quote = connection.ops.quote_name
    indexes: list[str] = []
    keys: list[tuple[str, str, str]] = []
    refused = False
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'")
            deferred_checks_run(cursor)
            cursor.execute(
                f"LOCK TABLE {', '.join(quote(t) for t in tables)} IN ACCESS EXCLUSIVE MODE"
            )
            for table in tables:
                cursor.execute(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass "
                    "AND NOT i.indisprimary AND NOT i.indisunique AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
                    "ORDER BY c.relname",
                    [table],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f"DROP INDEX {quote(name)}")
                    indexes.append(definition)
                for name, definition in foreign_keys_of(cursor, table):
                    cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
                    keys.append((table, name, definition))
    except DatabaseError:
        # The savepoint is rolled back: nothing was dropped, the load keeps the indexes.
        refused = True
    if refused:
        yield []
        return
    token = _BULK_LOAD.set(True)
    try:
        yield tables
    finally:
        _BULK_LOAD.reset(token)
    if connection.needs_rollback:
        return
    with connection.cursor() as cursor:
        deferred_checks_run(cursor)
        for definition in indexes:
            cursor.execute(definition)
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _drop() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP_TABLES}")


# Things COPY reads otherwise than Python's csv module: a quote inside an unquoted cell (COPY
# starts a quoted section there, Python keeps it), a line holding only `\.` (COPY's end of
# data), NUL (COPY refuses it).
def _odd_quote(delimiter: str) -> re.Pattern[bytes]:
    d = re.escape(delimiter.encode())
    return re.compile(rb"[^" + d + rb'\r\n"]"[^' + d + rb'\r\n"]')


_END_MARK = re.compile(rb"(?:^|\n)\\\.\r?(?:\n|$)")


def _lone_cr(window: bytes) -> bool:
    return window.removesuffix(b"\r").count(b"\r") != window.count(b"\r\n")


def _stage(stream: BinaryIO, header: list[str], delimiter: str, limits: Any) -> int:
    """COPY the rest of the file into the staging table; its row count (= lines read)."""
    columns = ", ".join(f"c{i} text" for i in range(len(header)))
    odd_quote = _odd_quote(delimiter)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP_TABLES}")
        cursor.execute(f"CREATE TEMP TABLE {STAGE} (ord bigserial, {columns})")
        names = ", ".join(f"c{i}" for i in range(len(header)))
        lines, tail, ends_with_newline, data = 0, b"\n", True, False
        copy_sql = (
            f"COPY {STAGE} ({names}) FROM STDIN "
            f"(FORMAT csv, DELIMITER '{delimiter}', ENCODING 'UTF8')"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            while block := stream.read(COPY_BLOCK):
                data = True
                window = tail + block
                # Each pattern is searched only when its bytes occur at all: a regular
                # expression over every block cost 0.4 s per 100,000 contacts, most files
                # hold no quote and no backslash.
                if (
                    b"\x00" in block
                    # A "\r" ending the block may start a "\r\n": the next window holds it.
                    or (b"\r" in window and _lone_cr(window))
                    or (b'"' in window and odd_quote.search(window))
                    or (b"\\." in window and _END_MARK.search(window))
                ):
                    raise _Fallback
                lines += block.count(b"\n")
                ends_with_newline = block.endswith(b"\n")
                tail = (tail + block)[-8:]  # what a pattern across two blocks needs
                copy.write(block)
        if data and not ends_with_newline:
            lines += 1
        cursor.execute(f"SELECT count(*) FROM {STAGE}")
        (rows,) = cursor.fetchone()
        if rows != lines:
            # A record over several lines (a quoted line break) or a blank line: the portable
            # reader numbers those lines.
            raise _Fallback
        if rows:
            lengths = [f"coalesce(char_length(c{i}), 0)" for i in range(len(header))]
            cursor.execute(
                f"SELECT max(greatest({', '.join(lengths)})), max({' + '.join(lengths)}) "
                f"FROM {STAGE}"
            )
            longest_cell, longest_row = cursor.fetchone()
            # A row's characters with its separators and quotes, at most.
            if longest_cell > limits.cell_chars or (
                longest_row + 3 * len(header) > limits.row_chars
            ):
                raise _Fallback
        # No ANALYZE: the stage is only ever read by ranges of `ord` (its key) and joined
        # to small tables, and statistics of 100,000 text rows cost a sixth of a second.
        cursor.execute(f"ALTER TABLE {STAGE} ADD PRIMARY KEY (ord)")
    return rows


def _slow_rows(header: list[str], low: int, high: int) -> Iterator[tuple[int, list[str], None]]:
    """The rows of lines low..high the SQL did not accept, as records for the portable path,
    read a page at a time (memory stays bounded whatever the batch holds)."""
    names = ", ".join(f"s.c{i}" for i in range(len(header)))
    with connection.cursor() as cursor:
        # Most batches leave nothing to the portable path: a scan of the batch's flags says so
        # for a tenth of the join below (0.25 s per 100,000 rows).
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {BATCH} b WHERE NOT b.ok AND NOT b.blank "
            "AND b.ord BETWEEN %s AND %s)",
            [low, high],
        )
        if not cursor.fetchone()[0]:
            return
    last = low - 1
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT s.ord, {names} FROM {STAGE} s JOIN {BATCH} b USING (ord) "
                f"WHERE NOT b.ok AND NOT b.blank AND s.ord > %s AND s.ord <= %s "
                f"ORDER BY s.ord LIMIT %s",
                [last, high, SLOW_PAGE],
            )
            page = cursor.fetchall()
        if not page:
            return
        for ord_, *cells in page:
            # Line 1 is the header: the staged row `ord` is line ord + 1.
            yield ord_ + 1, [cell or "" for cell in cells], None
        last = page[-1][0]


# --- What the SQL accepts, cell by cell ----------------------------------------------------------


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def trim_sql(cell: str) -> str:
    """Python's str.strip() of a staged cell (NULL: ''). btrim() with Python's whitespace set
    costs 0.3 s per 100,000 rows of nine cells more than the test that most cells need: one
    that begins and ends with a printable ASCII character other than a space is its own strip.
    """
    return (
        f"(CASE WHEN ascii({cell}) BETWEEN 33 AND 126 AND ascii(right({cell}, 1)) BETWEEN 33 "
        f"AND 126 THEN {cell} ELSE btrim(coalesce({cell}, ''), {_q(PY_SPACE)}) END)"
    )


MONEY = r"^\+?[0-9]{1,12}(\.[0-9]{1,2})?$"
QUANTITY = r"^\+?[0-9]{1,6}(\.[0-9]{1,2})?$"
ASCII = r"^[\x20-\x7e]*$"


@dataclass
class Field:
    """One field's value (SQL) and the condition under which the portable rules accept it."""

    value: str
    ok: str


class Cols:
    """The trimmed cells of the batch, by column name ('' for a column the file lacks)."""

    def __init__(self, header: list[str]):
        self.index = {name: i for i, name in enumerate(header) if name}
        self.header = header
        self.timestamps: set[int] = set()  # columns parsed as timestamps, once per row

    def __getitem__(self, name: str) -> str:
        return f"t.t{self.index[name]}" if name in self.index else "''"

    def has(self, name: str) -> bool:
        return name in self.index


def text(cols: Cols, name: str, max_length: int, *, required: bool = False) -> Field:
    cell = cols[name]
    ok = f"char_length({cell}) <= {max_length}"
    if required:
        ok = f"({cell} <> '' AND {ok})"
    return Field(cell, ok)


def _absent(cols: Cols, name: str, required: bool) -> Field | None:
    """A column the file lacks: no value (PostgreSQL would fold a cast of '' at planning)."""
    if cols.has(name):
        return None
    return Field("NULL", "false" if required else "true")


def timestamp(cols: Cols, name: str, *, required: bool = False) -> Field:
    """Parsed once per column in the batch query (Plan.batch_sql, `ts` and `tsok`)."""
    if (absent := _absent(cols, name, required)) is not None:
        return absent
    i = cols.index[name]
    cols.timestamps.add(i)
    return Field(f"t.ts{i}", f"coalesce(t.tsok{i}, {'false' if required else 'true'})")


# The ISO 8601 forms most files use, with every digit written 0; any other form goes to the
# portable path, which reads every form Python does. A shape check is far cheaper than a regex.
_TIMES = ["", "T00:00", "T00:00:00", "T00:00:00.000", "T00:00:00.000000"]
_OFFSETS = ["", "Z", "+00:00", "-00:00"]
TIMESTAMP_SHAPES = ["0000-00-00"] + [
    f"0000-00-00{time.replace('T', sep)}{offset}"
    for time in _TIMES[1:]
    for sep in ("T", " ")
    for offset in _OFFSETS
]


def timestamp_ok_sql(cell: str, shape: str) -> str:
    """NULL for a blank cell, else whether the cell is a timestamp the SQL reads as Python.

    `shape` is the cell with every digit written 0 (computed once, in the layer below).
    """
    year, month, day = (f"substr({cell}, {at}, {n})::int" for at, n in ((1, 4), (6, 2), (9, 2)))
    shapes = ", ".join(_q(shape_) for shape_ in TIMESTAMP_SHAPES)
    offset = f"right({shape}, 6) IN ('+00:00', '-00:00')"
    leap = f"({year} % 4 = 0 AND ({year} % 100 <> 0 OR {year} % 400 = 0))"
    last_day = (
        f"CASE {month} WHEN 2 THEN CASE WHEN {leap} THEN 29 ELSE 28 END "
        f"WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END"
    )
    # CASE evaluates in order (AND does not): nothing is cast before its shape is known.
    return (
        f"(CASE WHEN {cell} = '' THEN NULL WHEN {shape} NOT IN ({shapes}) THEN false "
        f"WHEN {year} NOT BETWEEN {EARLIEST_YEAR} AND {LATEST_YEAR} THEN false "
        f"WHEN {month} NOT BETWEEN 1 AND 12 THEN false "
        f"WHEN {day} NOT BETWEEN 1 AND {last_day} THEN false "
        f"WHEN length({cell}) >= 16 AND (substr({cell}, 12, 2)::int > 23 "
        f"OR substr({cell}, 15, 2)::int > 59) THEN false "
        f"WHEN length({cell}) >= 19 AND substr({cell}, 17, 1) = ':' "
        f"AND substr({cell}, 18, 2)::int > 59 THEN false "
        f"WHEN {offset} AND (substr({cell}, length({cell}) - 4, 2)::int > 23 "
        f"OR right({cell}, 2)::int > 59) THEN false "
        f"ELSE true END)"
    )


def timestamp_value_sql(cell: str, ok: str, shape: str) -> str:
    zone = _q(settings.TIME_ZONE)
    return (
        f"(CASE WHEN {ok} IS NOT TRUE THEN NULL "
        f"WHEN right({cell}, 1) = 'Z' OR right({shape}, 6) IN ('+00:00', '-00:00') "
        f"THEN {cell}::timestamptz ELSE {cell}::timestamp AT TIME ZONE {zone} END)"
    )


def decimal(cols: Cols, name: str, pattern: str, *, required: bool = False) -> Field:
    if (absent := _absent(cols, name, required)) is not None:
        return absent
    cell = cols[name]
    blank = "false" if required else "true"
    ok = f"(CASE WHEN {cell} = '' THEN {blank} ELSE {cell} ~ '{pattern}' END)"
    value = f"(CASE WHEN {cell} ~ '{pattern}' THEN {cell}::numeric END)"
    return Field(value, ok)


def integer(cols: Cols, name: str, low: int, high: int) -> Field:
    if (absent := _absent(cols, name, False)) is not None:
        return absent
    cell = cols[name]
    digits = len(str(high))
    pattern = rf"^\+?[0-9]{{1,{digits}}}$"
    ok = (
        f"(CASE WHEN {cell} = '' THEN true WHEN {cell} !~ '{pattern}' THEN false "
        f"ELSE {cell}::bigint BETWEEN {low} AND {high} END)"
    )
    value = f"(CASE WHEN {cell} ~ '{pattern}' THEN {cell}::bigint END)"
    return Field(value, ok)


def email_key_sql(cell: str) -> Field:
    """customers.keys.email_key for ASCII emails (others take the portable path)."""
    value = f"(CASE WHEN {cell} ~ '^[^@]+@[^@]+$' THEN lower({cell}) ELSE '' END)"
    return Field(value, f"{cell} ~ '{ASCII}'")


@dataclass
class Ref:
    """A column naming another record: a LEFT JOIN; a cell that names nothing is not accepted."""

    column: str
    table: str
    lookup: str
    attname: str
    required: bool = False


# --- Plans: one per kind -------------------------------------------------------------------------


class Plan:
    """How one kind's batch is checked and upserted in SQL."""

    model: type[models.Model]
    # Whether the kind's records have an owner (the page gives a new one its uploader).
    owned = False
    # Whether the whole file is one batch (deal items: a deal's rows replace its items).
    whole_file = False

    def __init__(self, spec: Kind, header: list[str]):
        self.spec, self.header = spec, header
        # The Import CSV page's uploader: the owner of a new record whose row names none.
        self.new_owner: int | None = None
        # A dry run: the writes of each batch are rolled back (the checks' tables are kept,
        # the portable path reads its rows from them).
        self.dry_run = False
        # Whether the kind's table is locked for the import (a bulk load, bulk_tables).
        self.locked = False
        self.cols = Cols(header)
        self.fields: dict[str, Field] = self.field_sql()
        self.refs: list[Ref] = self.ref_sql()
        self.extra_ok: list[str] = []
        self.joins: list[str] = []

    # What a kind defines.
    def field_sql(self) -> dict[str, Field]:
        raise NotImplementedError

    def ref_sql(self) -> list[Ref]:
        return []

    def pre_sql(self, low: int, high: int) -> list[str]:
        return []

    def bulk_candidates(self) -> list[str]:
        """The tables a load writes many rows into: the kind's, and those its triggers fill
        row for row (the deal history). The change log is not one: it keeps only its primary
        key."""
        return [self.model._meta.db_table]

    def compared(self) -> list[str]:
        """The fields a conflict compares and overwrites (a column the file lacks is left)."""
        from imports.loaders import Loader

        column_of = {**Loader.COLUMN_OF, **{ref.attname: ref.column for ref in self.refs}}
        names = [*self.spec.fields, *(ref.attname for ref in self.refs)]
        return [name for name in names if column_of.get(name, name) in self.header]

    def also_written(self) -> list[str]:
        return []

    def prepare(self) -> None:
        """Anything computed in Python per distinct value before the upsert (phone keys)."""

    def returning(self) -> str:
        return ""

    def after(self, cursor: Any) -> None:
        """Follow-ups of the upsert, e.g. the identity change log."""

    # The work.
    def batch_sql(self, low: int, high: int) -> str:
        n = len(self.header)
        trimmed = ", ".join(f"{trim_sql(f'c{i}')} AS t{i}" for i in range(n))
        blank = " AND ".join(f"t.t{i} = ''" for i in range(n)) or "true"
        selects = ["t.ord", f"({blank}) AS blank"]
        oks = [field.ok for field in self.fields.values()]
        joins = list(self.joins)
        for i, ref in enumerate(self.refs):
            cell = self.cols[ref.column]
            alias = f"r{i}"
            joins.append(
                f"LEFT JOIN {ref.table} {alias} ON {cell} <> '' AND {alias}.{ref.lookup} = {cell}"
            )
            selects.append(f"{alias}.id AS {ref.attname}")
            if ref.required:
                oks.append(f"{alias}.id IS NOT NULL")
            else:
                oks.append(f"({cell} = '' OR {alias}.id IS NOT NULL)")
        oks += self.extra_ok
        # The same key twice in the batch: both rows are the portable path's.
        joins.append(f"LEFT JOIN {DUPS} dup ON dup.k = {self.fields['external_id'].value}")
        oks.append("dup.k IS NULL")
        for name, field in self.fields.items():
            selects.append(f"{field.value} AS v_{name}")
        selects.append(f"({' AND '.join(f'({ok})' for ok in oks)}) AS ok")
        stamps = sorted(self.cols.timestamps)
        shaped = ", ".join(
            ["t.*", *(f"translate(t.t{i}, '0123456789', '0000000000') AS sh{i}" for i in stamps)]
        )
        checked = ", ".join(
            ["t.*", *(f"{timestamp_ok_sql(f't.t{i}', f't.sh{i}')} AS tsok{i}" for i in stamps)]
        )
        parsed = ", ".join(
            [
                "t.*",
                *(
                    f"{timestamp_value_sql(f't.t{i}', f't.tsok{i}', f't.sh{i}')} AS ts{i}"
                    for i in stamps
                ),
            ]
        )
        # OFFSET 0 keeps each layer a layer: the planner would otherwise inline the cell's
        # expressions into every place that reads it and compute them again there.
        rows = f"(SELECT ord, {trimmed} FROM {STAGE} WHERE ord BETWEEN {low} AND {high} OFFSET 0) t"
        rows = f"(SELECT {shaped} FROM {rows} OFFSET 0) t"
        rows = f"(SELECT {checked} FROM {rows} OFFSET 0) t"
        rows = f"(SELECT {parsed} FROM {rows} OFFSET 0) t"
        return f"CREATE TEMP TABLE {BATCH} AS SELECT {', '.join(selects)} FROM {rows} " + " ".join(
            joins
        )

    def value_of(self, attname: str) -> str | None:
        if attname == "owner_id" and self.new_owner is not None:
            # imports.scoping for a user who sees everything: a new record without an owner
            # is theirs; a stored one gets the file's cell (blank clears it), else keeps its own.
            given = "b.owner_id" if self.cols.has("owner") else "NULL"
            return (
                f"(CASE WHEN stored.id IS NULL THEN coalesce({given}, {int(self.new_owner)}) "
                f"ELSE {given} END)"
            )
        if attname in self.fields:
            return f"b.v_{attname}"
        if any(ref.attname == attname for ref in self.refs):
            return f"b.{attname}"
        return None

    def target_join(self) -> str:
        """The stored record of each row, when the owner of a new one differs (the page)."""
        if self.new_owner is None:
            return ""
        table = connection.ops.quote_name(self.model._meta.db_table)
        return f" LEFT JOIN {table} stored ON stored.external_id = b.v_external_id"

    def load(self, low: int, high: int, result: ImportResult) -> int:
        """Check lines low..high, upsert the accepted rows; returns how many were accepted."""
        meta = self.model._meta
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            # The duplicate-key window and the insert's line order sort the whole batch: in
            # memory, not in 4 MB runs on disk (this transaction only).
            cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
            cursor.execute(f"DROP TABLE IF EXISTS {BATCH}, {DUPS}")
            # The keys given twice: an aggregate of one column, not a window sorting every
            # row of the batch.
            key = f"c{self.cols.index['external_id']}"
            cursor.execute(
                f"CREATE TEMP TABLE {DUPS} AS SELECT {trim_sql(key)} "
                f"AS k FROM {STAGE} WHERE ord BETWEEN {low} AND {high} GROUP BY 1 "
                "HAVING count(*) > 1"
            )
            # Without statistics the planner takes the (usually empty) table for 1,360 rows
            # and sorts the whole batch for a merge join with it (0.3 s per 100,000 rows).
            cursor.execute(f"ANALYZE {DUPS}")
            for sql in self.pre_sql(low, high):
                cursor.execute(sql)
            cursor.execute(self.batch_sql(low, high))
            cursor.execute(f"ALTER TABLE {BATCH} ADD PRIMARY KEY (ord)")
            self.prepare()
            now = timezone.now()
            columns, values, params = [], [], []
            compared = self.compared()
            for f in meta.concrete_fields:
                if f.primary_key:
                    continue
                columns.append(quote(_column(f)))
                expr = self.value_of(f.attname)
                if expr is None:
                    default = (
                        now
                        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                        else f.get_default()
                    )
                    expr = "%s"
                    params.append(default)
                values.append(f"{expr}::{f.db_type(connection)}")
            updated = [
                _column(f)
                for f in meta.concrete_fields
                if f.attname in compared
                or f.attname in self.also_written()
                or getattr(f, "auto_now", False)
            ]
            table = quote(meta.db_table)
            by_attname = {f.attname: _column(f) for f in meta.concrete_fields}
            stored = ", ".join(f"{table}.{quote(by_attname[n])}" for n in compared)
            incoming = ", ".join(f"excluded.{quote(by_attname[n])}" for n in compared)
            assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in updated)
            differs = f"ROW({stored}) IS DISTINCT FROM ROW({incoming})" if compared else "false"
            returning = self.returning()
            source = (
                f"SELECT {', '.join(values)} FROM {BATCH} b {self.value_joins()}"
                f"{self.target_join()} WHERE b.ok"
            )
            fresh, fresh_count = "", ""
            if self.locked:
                # The table is ours alone (bulk_tables): the rows whose key is new are
                # inserted without ON CONFLICT's speculative insertion (a third cheaper), the
                # upsert meets only the stored keys. Both read one snapshot, so the two sets
                # are apart (a key twice in the batch is never accepted).
                stored_key = f"(SELECT 1 FROM {table} x WHERE x.external_id = b.v_external_id)"
                fresh = (
                    f"fresh AS (INSERT INTO {table} ({', '.join(columns)}) {source} "
                    f"AND NOT EXISTS {stored_key} ORDER BY b.ord RETURNING 1), "
                )
                fresh_count = "(SELECT count(*) FROM fresh) + "
                source += f" AND EXISTS {stored_key}"
                params = params * 2
            with self.written():
                cursor.execute(
                    f"WITH {fresh}written AS (INSERT INTO {table} ({', '.join(columns)}) "
                    f"{source} ORDER BY b.ord "
                    f"ON CONFLICT (external_id) DO UPDATE SET {assignments} WHERE {differs} "
                    f"RETURNING (xmax = 0) AS created{returning}) "
                    f"SELECT {fresh_count}count(*) FILTER (WHERE created), "
                    f"count(*) FILTER (WHERE NOT created), "
                    f"(SELECT count(*) FROM {BATCH} WHERE ok){self.written_extra()} FROM written",
                    params,
                )
                created, updated_count, accepted, *extra = cursor.fetchone()
                result.created += created
                result.updated += updated_count
                result.unchanged += accepted - created - updated_count
                self.after_counts(cursor, extra)
        return accepted

    @contextmanager
    def written(self) -> Iterator[None]:
        """The batch's writes: in a savepoint rolled back at once in a dry run."""
        with transaction.atomic():
            yield
            if self.dry_run:
                transaction.set_rollback(True)

    def value_joins(self) -> str:
        return ""

    def written_extra(self) -> str:
        return ""

    def after_counts(self, cursor: Any, extra: list[Any]) -> None:
        return None


def _column(field: Any) -> str:
    return cast(str, field.column)


class ContactPlan(Plan):
    model = Contact
    owned = True

    def field_sql(self) -> dict[str, Field]:
        c = self.cols
        email = text(c, "email", field_length(Contact, "email"))
        phone = text(c, "phone", field_length(Contact, "phone"))
        country = text(c, "country", 100)
        return {
            "external_id": text(c, "external_id", 100, required=True),
            "first_name": text(c, "first_name", field_length(Contact, "first_name")),
            "last_name": text(c, "last_name", field_length(Contact, "last_name")),
            "email": Field(email.value, f"({email.ok} AND {email_key_sql(c['email']).ok})"),
            "phone": phone,
            "email_key": Field(email_key_sql(c["email"]).value, "true"),
            "source": text(c, "source", field_length(Contact, "source")),
            "country": Field(
                f"upper({country.value})",
                f"({country.value} = '' OR {country.value} ~ '^[A-Za-z]{{2}}$')",
            ),
            "city": text(c, "city", field_length(Contact, "city")),
            "created_at": timestamp(c, "created_at", required=True),
        }

    def ref_sql(self) -> list[Ref]:
        return [
            Ref("company_external_id", Company._meta.db_table, "external_id", "company_id"),
            Ref("owner", get_user_model()._meta.db_table, "username", "owner_id"),
        ]

    def also_written(self) -> list[str]:
        return [
            name
            for name, column in (("email_key", "email"), ("phone_key", "phone"))
            if column in self.header
        ]

    def prepare(self) -> None:
        phones_to_keys(
            f"SELECT DISTINCT v_phone FROM {BATCH} WHERE ok AND v_phone <> '' "
            f"AND NOT {mobile_phone('v_phone')}"
        )

    def value_of(self, attname: str) -> str | None:
        if attname == "phone_key":
            return (
                f"(CASE WHEN {mobile_phone('b.v_phone')} THEN {mobile_phone_key('b.v_phone')} "
                f"ELSE coalesce(p.key, '') END)"
            )
        return super().value_of(attname)

    def value_joins(self) -> str:
        return f"LEFT JOIN {PHONES} p ON p.phone = b.v_phone"

    def returning(self) -> str:
        return ", CASE WHEN xmax <> 0 THEN customer_id END AS touched"

    def written_extra(self) -> str:
        return ", array_remove(array_agg(DISTINCT touched), NULL)"

    def after_counts(self, cursor: Any, extra: list[Any]) -> None:
        # An updated contact's customer is looked at again by the next incremental identity
        # resolution (as the portable loader does).
        touched = extra[0] or []
        if touched:
            from customers.models import IdentityChange

            IdentityChange.objects.bulk_create(
                IdentityChange(customer_id=customer_id) for customer_id in touched
            )


# An Indonesian mobile number written +628... or 08... with 9 to 13 digits after the country
# code: customers.keys.phone_key gives +62 and those digits (pinned by a test against
# phonenumbers), so the SQL writes it without asking Python. Other phones are keyed in Python.
MOBILE_ID = r"^(\+62|0)8[0-9]{8,12}$"


def mobile_phone(cell: str) -> str:
    if settings.INSIGHTS_DEFAULT_REGION != "ID":
        return "false"
    return f"({cell} ~ '{MOBILE_ID}')"


def mobile_phone_key(cell: str) -> str:
    return f"(CASE WHEN left({cell}, 1) = '0' THEN '+62' || substr({cell}, 2) ELSE {cell} END)"


def phones_to_keys(select_sql: str) -> None:
    """customers.keys.phone_key of each distinct phone of the batch, into the PHONES table."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PHONES}")
        cursor.execute(f"CREATE TEMP TABLE {PHONES} (phone text PRIMARY KEY, key text)")
        cursor.execute(select_sql)
        phones = [phone for (phone,) in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {PHONES} (phone, key) FROM STDIN") as copy:
            for phone in phones:
                copy.write_row((phone, phone_key(phone)))


class ChatRoomPlan(Plan):
    model = ChatRoom

    def field_sql(self) -> dict[str, Field]:
        c = self.cols
        created = timestamp(c, "created_at", required=True)
        first = timestamp(c, "first_response_at")
        resolved = timestamp(c, "resolved_at")
        return {
            "external_id": text(c, "external_id", 100, required=True),
            "created_at": created,
            "first_response_at": Field(
                first.value,
                f"({first.ok} AND ({first.value} IS NULL OR {created.value} IS NULL "
                f"OR {first.value} >= {created.value}))",
            ),
            "resolved_at": Field(
                resolved.value,
                f"({resolved.ok} AND ({resolved.value} IS NULL OR {created.value} IS NULL "
                f"OR {resolved.value} >= {created.value}))",
            ),
            "agent": text(c, "agent", field_length(ChatRoom, "agent")),
            "csat_score": integer(c, "csat_score", 1, 5),
        }

    def ref_sql(self) -> list[Ref]:
        return [
            Ref(
                "chat_contact_external_id",
                ChatContact._meta.db_table,
                "external_id",
                "chat_contact_id",
                required=True,
            )
        ]


class DealPlan(Plan):
    model = Deal
    owned = True

    def __init__(self, spec: Kind, header: list[str]):
        super().__init__(spec, header)
        c = self.cols
        stage, outcome, reason = c["stage"], f"lower({c['outcome']})", c["lost_reason"]
        stages = PipelineStage._meta.db_table
        # The stage by exact name, else by the one name equal in another case (DealLoader);
        # a stage to create, or an outcome that contradicts it, is the portable path's.
        self.joins = [
            f"LEFT JOIN {STAGES} st ON st.cell = {stage}",
            f"LEFT JOIN {stages} sto ON sto.id = st.id",
            f"LEFT JOIN {REASONS} lr ON {reason} <> '' AND lr.cell = {reason}",
        ]
        self.extra_ok = [
            f"char_length({stage}) <= {field_length(PipelineStage, 'name')}",
            f"{stage} <> ''",
            f"{stage} ~ '{ASCII}'",
            "st.id IS NOT NULL",
            f"({outcome} = '' OR {outcome} = sto.outcome)",
            f"{c['outcome']} ~ '{ASCII}'",
            f"char_length({reason}) <= {field_length(LostReason, 'name')}",
            f"{reason} ~ '{ASCII}'",
            f"({reason} = '' OR lr.id IS NOT NULL)",
        ]
        self.fields["stage_id"] = Field("st.id", "true")
        self.fields["lost_reason_id"] = Field("lr.id", "true")

    def pre_sql(self, low: int, high: int) -> list[str]:
        """Each distinct stage and lost reason of the batch resolved once, not once per row."""
        stages, reasons = PipelineStage._meta.db_table, LostReason._meta.db_table
        stage_col = f"c{self.cols.index['stage']}"
        out = [
            f"DROP TABLE IF EXISTS {STAGES}, {REASONS}",
            f"CREATE TEMP TABLE {STAGES} AS SELECT d.cell, coalesce("
            f"(SELECT id FROM {stages} WHERE name = d.cell), "
            f"(SELECT min(id) FROM {stages} WHERE lower(name) = lower(d.cell) "
            f"HAVING count(*) = 1)) AS id FROM (SELECT DISTINCT "
            f"{trim_sql(stage_col)} AS cell FROM {STAGE} "
            f"WHERE ord BETWEEN {low} AND {high}) d",
        ]
        if self.cols.has("lost_reason"):
            reason_col = f"c{self.cols.index['lost_reason']}"
            out.append(
                f"CREATE TEMP TABLE {REASONS} AS SELECT d.cell, r.id FROM (SELECT DISTINCT "
                f"{trim_sql(reason_col)} AS cell FROM {STAGE} "
                f"WHERE ord BETWEEN {low} AND {high}) d "
                f"JOIN {reasons} r ON lower(r.name) = lower(d.cell)"
            )
        else:
            out.append(f"CREATE TEMP TABLE {REASONS} (cell text, id bigint)")
        return out

    def bulk_candidates(self) -> list[str]:
        # Each new deal writes a row of its history (deals/migrations/0005's trigger).
        return [Deal._meta.db_table, DealChange._meta.db_table]

    def field_sql(self) -> dict[str, Field]:
        c = self.cols
        currency = c["currency"]
        return {
            "external_id": text(c, "external_id", 100, required=True),
            "name": text(c, "name", field_length(Deal, "name")),
            "win_probability": integer(c, "win_probability", 0, 100),
            "amount": decimal(c, "amount", MONEY, required=True),
            "currency": Field(
                f"(CASE WHEN {currency} = '' THEN {_q(settings.INSIGHTS_CURRENCY)} "
                f"ELSE upper({currency}) END)",
                f"({currency} = '' OR {currency} ~ '^[A-Za-z]{{3}}$')",
            ),
            "created_at": timestamp(c, "created_at", required=True),
            "closed_at": timestamp(c, "closed_at"),
            "expected_close_at": timestamp(c, "expected_close_at"),
        }

    def ref_sql(self) -> list[Ref]:
        return [
            Ref("contact_external_id", Contact._meta.db_table, "external_id", "contact_id"),
            Ref("company_external_id", Company._meta.db_table, "external_id", "company_id"),
            Ref("owner", get_user_model()._meta.db_table, "username", "owner_id"),
        ]


PLANS: dict[str, type[Plan]] = {
    "contacts": ContactPlan,
    "deals": DealPlan,
    "chat_rooms": ChatRoomPlan,
}


class DealItemPlan(Plan):
    """Deal items (CONTRACT §1: the rows of one load for a deal become its items).

    The whole file is one batch, so every row of a deal is judged together. A deal is the
    SQL's only when every one of its rows is accepted and its counts do not depend on the
    order of its rows (imports.loaders.DealItemLoader counts each row in line order: unchanged
    while an equal stored item is left, else updated while a stored item of its product is
    left, else created). For one product of a deal, with U rows matching stored items, R other
    rows and S stored items, the order matters only when U > 0, R > 0 and S - U < R (an
    unmatched row may take the product's last stored item before a matching row does). Such
    a deal, and any deal with a row the SQL does not accept, goes whole to the portable path,
    which then alone writes that deal's items.
    """

    model = DealItem
    whole_file = True

    def field_sql(self) -> dict[str, Field]:
        c = self.cols
        return {
            "deal": text(c, "deal_external_id", 100, required=True),
            "product": text(c, "product_external_id", 100, required=True),
            "quantity": decimal(c, "quantity", QUANTITY, required=True),
            "unit_price": decimal(c, "unit_price", MONEY, required=True),
        }

    def ref_sql(self) -> list[Ref]:
        return [
            Ref("deal_external_id", Deal._meta.db_table, "external_id", "deal_id", required=True),
            Ref(
                "product_external_id",
                Product._meta.db_table,
                "external_id",
                "product_id",
                required=True,
            ),
        ]

    def batch_sql(self, low: int, high: int) -> str:
        n = len(self.header)
        trimmed = ", ".join(f"{trim_sql(f'c{i}')} AS t{i}" for i in range(n))
        blank = " AND ".join(f"t.t{i} = ''" for i in range(n)) or "true"
        deal_cell = self.cols["deal_external_id"]
        oks = [field.ok for field in self.fields.values()]
        joins = []
        selects = ["t.ord", f"({blank}) AS blank", f"{deal_cell} AS deal_cell"]
        for i, ref in enumerate(self.refs):
            cell, alias = self.cols[ref.column], f"r{i}"
            joins.append(f"LEFT JOIN {ref.table} {alias} ON {alias}.{ref.lookup} = {cell}")
            selects.append(f"{alias}.id AS {ref.attname}")
            oks.append(f"{alias}.id IS NOT NULL")
        for name in ("quantity", "unit_price"):
            selects.append(f"{self.fields[name].value} AS v_{name}")
        selects.append(f"({' AND '.join(f'({ok})' for ok in oks)}) AS row_ok")
        rows = f"(SELECT ord, {trimmed} FROM {STAGE} WHERE ord BETWEEN {low} AND {high} OFFSET 0) t"
        return f"CREATE TEMP TABLE {ITEMS} AS SELECT {', '.join(selects)} FROM {rows} " + " ".join(
            joins
        )

    def load(self, low: int, high: int, result: ImportResult) -> int:
        items = connection.ops.quote_name(DealItem._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{SORT_MEMORY}'")
            cursor.execute(f"DROP TABLE IF EXISTS {ITEMS}, {BATCH}, imports_stage_deals")
            cursor.execute(self.batch_sql(low, high))
            # The deals whose rows are all accepted (a blank row belongs to no deal).
            cursor.execute(
                "CREATE TEMP TABLE imports_stage_deals AS SELECT min(deal_id) AS deal_id "
                f"FROM {ITEMS} WHERE NOT blank GROUP BY deal_cell "
                "HAVING bool_and(row_ok) AND count(DISTINCT deal_id) = 1"
            )
            cursor.execute("ALTER TABLE imports_stage_deals ADD PRIMARY KEY (deal_id)")
            # Per deal and product: U (rows matching a stored item), R (the others), S (stored).
            cursor.execute(
                "CREATE TEMP TABLE imports_stage_products AS "
                "WITH f AS (SELECT i.deal_id, product_id, v_quantity AS q, v_unit_price AS p, "
                f"count(*) AS n FROM {ITEMS} i JOIN imports_stage_deals d USING (deal_id) "
                "WHERE NOT blank GROUP BY 1, 2, 3, 4), "
                f"s AS (SELECT x.deal_id, product_id, quantity AS q, unit_price AS p, "
                f"count(*) AS n FROM {items} x JOIN imports_stage_deals d USING (deal_id) "
                "GROUP BY 1, 2, 3, 4) "
                "SELECT deal_id, product_id, "
                "sum(least(coalesce(f.n, 0), coalesce(s.n, 0))) AS u, "
                "sum(coalesce(f.n, 0)) - sum(least(coalesce(f.n, 0), coalesce(s.n, 0))) AS r, "
                "sum(coalesce(s.n, 0)) AS s, bool_and(f.n IS NOT DISTINCT FROM s.n) AS same "
                "FROM f FULL JOIN s USING (deal_id, product_id, q, p) GROUP BY 1, 2"
            )
            cursor.execute(
                "CREATE TEMP TABLE imports_stage_verdict AS SELECT deal_id, "
                "bool_and(same) AS same, "
                "bool_or(u > 0 AND r > 0 AND s - u < r) AS order_matters, "
                "sum(u) AS u, sum(least(r, s - u)) AS updated, sum(r - least(r, s - u)) AS created "
                "FROM imports_stage_products GROUP BY deal_id"
            )
            # The batch the portable path reads back: every row of a deal not decided here.
            cursor.execute(
                f"CREATE TEMP TABLE {BATCH} AS SELECT i.ord, i.blank, "
                "coalesce(NOT v.order_matters, false) AS ok "
                f"FROM {ITEMS} i LEFT JOIN imports_stage_verdict v ON v.deal_id = i.deal_id"
            )
            cursor.execute(f"ALTER TABLE {BATCH} ADD PRIMARY KEY (ord)")
            cursor.execute(
                "SELECT coalesce(sum(CASE WHEN same THEN u ELSE 0 END), 0), "
                "coalesce(sum(CASE WHEN same THEN 0 ELSE u END), 0), "
                "coalesce(sum(CASE WHEN same THEN 0 ELSE updated END), 0), "
                "coalesce(sum(CASE WHEN same THEN 0 ELSE created END), 0) "
                "FROM imports_stage_verdict WHERE NOT order_matters"
            )
            same_rows, unchanged, updated, created = (int(n) for n in cursor.fetchone())
            # A deal whose rows equal its items is not written (a reload changes nothing).
            with self.written():
                self.replace(cursor, items)
            cursor.execute(
                "DROP TABLE imports_stage_deals, imports_stage_products, imports_stage_verdict"
            )
        result.unchanged += same_rows + unchanged
        result.updated += updated
        result.created += created
        return same_rows + unchanged + updated + created

    def replace(self, cursor: Any, items: str) -> None:
        """The items of the deals decided here and changed: deleted, then the file's lines."""
        cursor.execute(
            f"DELETE FROM {items} WHERE deal_id IN (SELECT deal_id FROM "
            "imports_stage_verdict WHERE NOT order_matters AND NOT same)"
        )
        cursor.execute(
            f"INSERT INTO {items} (deal_id, product_id, quantity, unit_price) "
            f"SELECT i.deal_id, i.product_id, i.v_quantity, i.v_unit_price FROM {ITEMS} i "
            "JOIN imports_stage_verdict v USING (deal_id) "
            "WHERE NOT v.order_matters AND NOT v.same AND NOT i.blank ORDER BY i.ord"
        )


PLANS["deal_items"] = DealItemPlan
