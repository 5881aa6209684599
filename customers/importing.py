"""Loading CSV files into the domain (CONTRACT.md section 1): `import_records KIND PATH`.

The file is streamed in batches: each batch resolves its references with one query per
referenced table, compares itself with the rows already stored (one query) and writes with one
bulk upsert, so a load costs a handful of queries per few thousand rows, never one per row.
A row is validated whole before anything of it is written, so it is never half-written.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, partial
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, models, router, transaction
from django.utils import timezone

from chats.models import SURVEY_SCORE_RANGES, ChatContact, ChatRoom, SurveyResponse
from customers.keys import email_key, phone_key
from customers.models import Company, Contact, IdentityChange
from deals.models import Deal, DealItem, LostReason, PipelineStage, Product

BATCH_SIZE = 5000


class ImportFileError(Exception):
    """The file as a whole is refused (exit 2): unreadable, or a required column is missing."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )


@dataclass
class Rejection:
    line: int
    values: list[str]
    errors: list[tuple[str, str]]

    @property
    def reason(self) -> str:
        return "; ".join(f"{column}: {reason}" for column, reason in self.errors)


@dataclass
class _Row:
    """One parsed row: model field values plus references still to resolve."""

    line: int
    raw: list[str]
    values: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)  # column -> referenced key
    errors: list[tuple[str, str]] = field(default_factory=list)


class _Cells:
    """Reads and validates the cells of one row, collecting (column, reason) errors."""

    def __init__(self, record: dict[str, str]):
        self.record = record
        self.errors: list[tuple[str, str]] = []

    def fail(self, column: str, reason: str) -> None:
        self.errors.append((column, reason))

    def text(self, column: str, *, max_length: int, required: bool = False) -> str:
        value = self.record.get(column, "").strip()
        if required and not value:
            self.fail(column, "required")
        elif len(value) > max_length:
            self.fail(column, f"longer than {max_length} characters")
        return value

    def timestamp(self, column: str, *, required: bool = False) -> datetime | None:
        value = self.record.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, "required")
            return None
        try:
            # Python 3.11 reads ISO 8601 with or without offset, "Z", and plain dates.
            parsed = datetime.fromisoformat(value)
        except ValueError:
            self.fail(column, f"not an ISO 8601 timestamp: {value!r}")
            return None
        if timezone.is_naive(parsed):
            # No offset: local time in settings.TIME_ZONE (CONTRACT.md section 1).
            parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
        return parsed

    def decimal(
        self, column: str, *, max_digits: int, places: int, required: bool = False
    ) -> Decimal | None:
        value = self.record.get(column, "").strip()
        if not value:
            if required:
                self.fail(column, "required")
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.fail(column, f"not a number: {value!r}")
            return None
        if not number.is_finite():
            self.fail(column, f"not a number: {value!r}")
            return None
        if number < 0:
            self.fail(column, "must not be negative")
            return None
        # Reject rather than round: money that changes silently is worse than a rejected row.
        if number != number.quantize(Decimal(1).scaleb(-places)):
            self.fail(column, f"more than {places} decimal places")
            return None
        if abs(number) >= Decimal(10) ** (max_digits - places):
            self.fail(column, "too large")
            return None
        return number

    def integer(self, column: str, *, low: int, high: int) -> int | None:
        value = self.record.get(column, "").strip()
        if not value:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value():
            self.fail(column, f"not a whole number: {value!r}")
            return None
        if not low <= number <= high:
            self.fail(column, f"must be between {low} and {high}")
            return None
        return int(number)


@cache
def _field_length(model: type[models.Model], name: str) -> int:
    return model._meta.get_field(name).max_length


# --- The kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """A column naming another record: resolved per batch with one query."""

    column: str
    model: type[models.Model]
    lookup: str  # the referenced model's field the cell holds
    attname: str  # where the resolved id goes in this row's values
    missing: str  # reason when nothing matches; {value} is the cell


def _company(c: _Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "name": c.text("name", max_length=_field_length(Company, "name"), required=True),
        "industry": c.text("industry", max_length=_field_length(Company, "industry")),
        "created_at": c.timestamp("created_at"),
    }


def _identity(c: _Cells, model: type[models.Model]) -> dict[str, Any]:
    email = c.text("email", max_length=_field_length(model, "email"))
    phone = c.text("phone", max_length=_field_length(model, "phone"))
    # Bulk writes bypass Model.save, which computes the keys, so compute them here; an
    # email or phone that does not normalise is kept as written with an empty key.
    return {
        "email": email,
        "phone": phone,
        "email_key": email_key(email),
        "phone_key": phone_key(phone),
    }


def _contact(c: _Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "first_name": c.text("first_name", max_length=_field_length(Contact, "first_name")),
        "last_name": c.text("last_name", max_length=_field_length(Contact, "last_name")),
        **_identity(c, Contact),
        "source": c.text("source", max_length=_field_length(Contact, "source")),
        "created_at": c.timestamp("created_at", required=True),
    }


def _chat_contact(c: _Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "channel": c.text(
            "channel", max_length=_field_length(ChatContact, "channel"), required=True
        ),
        "name": c.text("name", max_length=_field_length(ChatContact, "name")),
        **_identity(c, ChatContact),
        "created_at": c.timestamp("created_at", required=True),
    }


def _chat_room(c: _Cells) -> dict[str, Any]:
    values = {
        "external_id": c.text("external_id", max_length=100, required=True),
        "created_at": c.timestamp("created_at", required=True),
        "first_response_at": c.timestamp("first_response_at"),
        "resolved_at": c.timestamp("resolved_at"),
        "agent": c.text("agent", max_length=_field_length(ChatRoom, "agent")),
        "csat_score": c.integer("csat_score", low=1, high=5),
    }
    for column in ("first_response_at", "resolved_at"):
        if values[column] and values["created_at"] and values[column] < values["created_at"]:
            c.fail(column, "before created_at")
    return values


SURVEY_COMMENT_MAX = 10_000
SURVEY_RECORD_COLUMNS = ("contact_external_id", "chat_contact_external_id")


def _survey_response(c: _Cells) -> dict[str, Any]:
    kind = c.text("kind", max_length=3, required=True).lower()
    score_cell = c.record.get("score", "").strip()
    score = None
    if kind and kind not in SURVEY_SCORE_RANGES:
        c.fail("kind", f"must be nps or ces, not {kind!r}")
    elif not score_cell:
        c.fail("score", "required")
    elif kind:
        low, high = SURVEY_SCORE_RANGES[kind]
        score = c.integer("score", low=low, high=high)
    given = [name for name in SURVEY_RECORD_COLUMNS if c.record.get(name, "").strip()]
    if len(given) != 1:
        c.fail(
            "contact_external_id",
            "give exactly one of contact_external_id and chat_contact_external_id",
        )
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "kind": kind,
        "score": score,
        "comment": c.text("comment", max_length=SURVEY_COMMENT_MAX),
        "created_at": c.timestamp("created_at", required=True),
    }


def _product(c: _Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "name": c.text("name", max_length=_field_length(Product, "name"), required=True),
        "sku": c.text("sku", max_length=_field_length(Product, "sku")),
        "price": c.decimal("price", max_digits=18, places=2),
    }


OUTCOMES = {choice.value for choice in PipelineStage.Outcome}


def _deal(c: _Cells) -> dict[str, Any]:
    outcome = c.record.get("outcome", "").strip().lower()
    if outcome and outcome not in OUTCOMES:
        c.fail("outcome", f"must be open, won or lost, not {outcome!r}")
    currency = c.text("currency", max_length=_field_length(Deal, "currency"))
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "name": c.text("name", max_length=_field_length(Deal, "name")),
        "win_probability": c.integer("win_probability", low=0, high=100),
        "amount": c.decimal("amount", max_digits=18, places=2, required=True),
        "currency": currency.upper() or settings.INSIGHTS_CURRENCY,
        "created_at": c.timestamp("created_at", required=True),
        "closed_at": c.timestamp("closed_at"),
        # Resolved per batch (_DealLoader): the stage by name, the lost reason by catalogue.
        "_stage": c.text("stage", max_length=_field_length(PipelineStage, "name"), required=True),
        "_outcome": outcome,
        "_lost_reason": c.text("lost_reason", max_length=_field_length(LostReason, "name")),
    }


def _deal_item(c: _Cells) -> dict[str, Any]:
    c.text("deal_external_id", max_length=100, required=True)
    c.text("product_external_id", max_length=100, required=True)
    return {
        "quantity": c.decimal("quantity", max_digits=14, places=2, required=True),
        "unit_price": c.decimal("unit_price", max_digits=18, places=2, required=True),
    }


def _user_ref() -> _Ref:
    return _Ref("owner", get_user_model(), "username", "owner_id", "unknown user {value!r}")


_COMPANY_REF = _Ref(
    "company_external_id",
    Company,
    "external_id",
    "company_id",
    "no company with external_id {value!r} (load companies first)",
)
_CONTACT_REF = _Ref(
    "contact_external_id",
    Contact,
    "external_id",
    "contact_id",
    "no contact with external_id {value!r} (load contacts first)",
)


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.Model]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    parse: Callable[[_Cells], dict[str, Any]]
    refs: Callable[[], tuple[_Ref, ...]]
    # Fields written and compared (besides refs' attnames); keys follow from email/phone.
    fields: tuple[str, ...]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in [
        Kind(
            "companies",
            Company,
            ("external_id", "name"),
            ("industry", "created_at"),
            _company,
            lambda: (),
            ("name", "industry", "created_at"),
        ),
        Kind(
            "contacts",
            Contact,
            ("external_id", "created_at"),
            ("first_name", "last_name", "email", "phone", "company_external_id", "source", "owner"),
            _contact,
            lambda: (_COMPANY_REF, _user_ref()),
            ("first_name", "last_name", "email", "phone", "source", "created_at"),
        ),
        Kind(
            "chat_contacts",
            ChatContact,
            ("external_id", "channel", "created_at"),
            ("name", "email", "phone"),
            _chat_contact,
            lambda: (),
            ("channel", "name", "email", "phone", "created_at"),
        ),
        Kind(
            "chat_rooms",
            ChatRoom,
            ("external_id", "chat_contact_external_id", "created_at"),
            ("first_response_at", "resolved_at", "agent", "csat_score"),
            _chat_room,
            lambda: (
                _Ref(
                    "chat_contact_external_id",
                    ChatContact,
                    "external_id",
                    "chat_contact_id",
                    "no chat contact with external_id {value!r} (load chat_contacts first)",
                ),
            ),
            ("created_at", "first_response_at", "resolved_at", "agent", "csat_score"),
        ),
        Kind(
            "products",
            Product,
            ("external_id", "name"),
            ("sku", "price"),
            _product,
            lambda: (),
            ("name", "sku", "price"),
        ),
        Kind(
            "deals",
            Deal,
            ("external_id", "stage", "amount", "created_at"),
            (
                "name",
                "contact_external_id",
                "company_external_id",
                "outcome",
                "win_probability",
                "currency",
                "closed_at",
                "lost_reason",
                "owner",
            ),
            _deal,
            lambda: (_CONTACT_REF, _COMPANY_REF, _user_ref()),
            (
                "name",
                "stage_id",
                "win_probability",
                "amount",
                "currency",
                "created_at",
                "closed_at",
                "lost_reason_id",
            ),
        ),
        Kind(
            "deal_items",
            DealItem,
            ("deal_external_id", "product_external_id", "quantity", "unit_price"),
            (),
            _deal_item,
            lambda: (
                _Ref(
                    "deal_external_id",
                    Deal,
                    "external_id",
                    "deal_id",
                    "no deal with external_id {value!r} (load deals first)",
                ),
                _Ref(
                    "product_external_id",
                    Product,
                    "external_id",
                    "product_id",
                    "no product with external_id {value!r} (load products first)",
                ),
            ),
            ("product_id", "quantity", "unit_price"),
        ),
        Kind(
            "survey_responses",
            SurveyResponse,
            ("external_id", "kind", "score", "created_at"),
            ("comment", *SURVEY_RECORD_COLUMNS),
            _survey_response,
            lambda: (
                _CONTACT_REF,
                _Ref(
                    "chat_contact_external_id",
                    ChatContact,
                    "external_id",
                    "chat_contact_id",
                    "no chat contact with external_id {value!r} (load chat_contacts first)",
                ),
            ),
            ("kind", "score", "comment", "created_at"),
        ),
    ]
}


# --- Reading --------------------------------------------------------------------------------


# A cell may hold a long note, but a quote never closed would read the rest of the file into
# one cell: past this size the file is refused, so memory stays bounded whatever the file.
MAX_CELL_CHARS = 16 * 1024 * 1024


def _records(stream: TextIO) -> Iterator[tuple[int, list[str]]]:
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
    rows = _records(stream)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError("the file is empty: a header row is required") from None
    header = [_HEADER_CLEAN.sub("", name).strip() for name in header]
    missing = [name for name in spec.required if name not in header]
    if missing:
        raise ImportFileError(f"missing required column(s): {', '.join(missing)}")

    loader = (
        _DealItemLoader if kind == "deal_items" else _DealLoader if kind == "deals" else _Loader
    )(spec, header)
    if kind == "survey_responses":
        loader = _SurveyLoader(spec, header)
    result = ImportResult()

    def emit(rejections: list[Rejection]) -> None:
        result.rejected += len(rejections)
        if on_rejection:
            for rejection in sorted(rejections, key=lambda r: r.line):
                on_rejection(rejection, header)

    def flush(batch: list[_Row], rejections: list[Rejection]) -> None:
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
        batch: list[_Row] = []
        rejections: list[Rejection] = []
        keys_in_batch: set[str] = set()
        for line, cells in rows:
            record = dict(zip(header, cells, strict=False))
            parsed = _Cells(record)
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
            batch.append(_Row(line, cells, values, refs))
            if len(batch) + len(rejections) >= batch_size:
                flush(batch, rejections)
                batch, rejections, keys_in_batch = [], [], set()
        flush(batch, rejections)
        if atomic and result.rejected:
            transaction.set_rollback(True)
            return ImportResult(rejected=result.rejected)
    return result


# --- Writing --------------------------------------------------------------------------------


class _Loader:
    """Upserts rows of a kind with an external id."""

    # Fields read from a column of another name; the rest are read from their own name.
    COLUMN_OF = {
        "email_key": "email",
        "phone_key": "phone",
        "stage_id": "stage",
        "lost_reason_id": "lost_reason",
    }

    def __init__(self, spec: Kind, header: list[str]):
        self.spec = spec
        self.refs = spec.refs()
        self.header = set(header)
        self.column_of = {**self.COLUMN_OF, **{ref.attname: ref.column for ref in self.refs}}

    def load(self, batch: list[_Row], result: ImportResult, rejections: list[Rejection]) -> None:
        good = self.resolve_refs(batch, rejections)
        good = self.resolve_extra(good, rejections)
        self.write(good, result)

    def resolve_refs(self, batch: list[_Row], rejections: list[Rejection]) -> list[_Row]:
        for ref in self.refs:
            wanted = {row.refs[ref.column] for row in batch if ref.column in row.refs}
            found = dict(
                ref.model._default_manager.filter(**{f"{ref.lookup}__in": wanted}).values_list(
                    ref.lookup, "pk"
                )
                if wanted
                else []
            )
            for row in batch:
                value = row.refs.get(ref.column)
                row.values[ref.attname] = found.get(value) if value else None
                if value and row.values[ref.attname] is None:
                    row.errors.append((ref.column, ref.missing.format(value=value)))
        return self.split(batch, rejections)

    @staticmethod
    def split(batch: list[_Row], rejections: list[Rejection]) -> list[_Row]:
        good = []
        for row in batch:
            if row.errors:
                rejections.append(Rejection(row.line, row.raw, row.errors))
            else:
                good.append(row)
        return good

    def resolve_extra(self, batch: list[_Row], rejections: list[Rejection]) -> list[_Row]:
        return batch

    def compared_fields(self) -> list[str]:
        # A column the file does not have leaves the stored value alone (an empty cell clears it).
        return [
            name
            for name in [*self.spec.fields, *(ref.attname for ref in self.refs)]
            if self.column_of.get(name, name) in self.header
        ]

    def write(self, batch: list[_Row], result: ImportResult) -> None:
        if not batch:
            return
        model = self.spec.model
        compared = self.compared_fields()
        identity = model in (Contact, ChatContact)
        existing = {
            values["external_id"]: values
            for values in model._default_manager.filter(
                external_id__in=[row.values["external_id"] for row in batch]
            ).values("external_id", *compared, *(["customer_id"] if identity else []))
        }
        to_write, touched_customers = [], []
        for row in batch:
            stored = existing.get(row.values["external_id"])
            if stored is None:
                result.created += 1
            elif all(stored[name] == row.values[name] for name in compared):
                result.unchanged += 1
                continue
            else:
                result.updated += 1
                if identity and stored["customer_id"] is not None:
                    touched_customers.append(stored["customer_id"])
            to_write.append(row.values)
        if touched_customers:
            # A changed created_at, source or company changes the customer's first seen, source
            # or company without touching keys; the change log makes the next incremental
            # identity resolution look at that customer again.
            IdentityChange.objects.bulk_create(
                IdentityChange(customer_id=customer_id) for customer_id in set(touched_customers)
            )
        if not to_write:
            return
        written = [
            *compared,
            *(name for name in ("email_key", "phone_key") if self.column_of[name] in self.header),
        ]
        _bulk_write(model, to_write, written)


class _DealLoader(_Loader):
    """Deals also resolve their stage (created when new) and lost reason (catalogue)."""

    def __init__(self, spec: Kind, header: list[str]):
        super().__init__(spec, header)
        self.stages: dict[str, PipelineStage] = {s.name: s for s in PipelineStage.objects.all()}
        self.reasons: dict[str, LostReason] = {r.name.lower(): r for r in LostReason.objects.all()}

    def stage_named(self, name: str) -> PipelineStage | None:
        stage = self.stages.get(name)
        if stage is None:
            # Exact name first; else the same name in another case, so "won" finds "Won".
            matches = [s for s in self.stages.values() if s.name.lower() == name.lower()]
            stage = matches[0] if len(matches) == 1 else None
        return stage

    def resolve_extra(self, batch: list[_Row], rejections: list[Rejection]) -> list[_Row]:
        new_stages: dict[str, PipelineStage] = {}
        for row in batch:
            name, outcome = row.values.pop("_stage"), row.values.pop("_outcome")
            stage = self.stage_named(name) or new_stages.get(name)
            if stage is None:
                stage = PipelineStage(
                    name=name,
                    outcome=outcome or PipelineStage.Outcome.OPEN,
                    default_win_probability=100 if outcome == PipelineStage.Outcome.WON else 0,
                    order=1000,
                )
                new_stages[name] = stage
            elif outcome and outcome != stage.outcome:
                row.errors.append(
                    (
                        "outcome",
                        f"{outcome!r} contradicts stage {stage.name!r}, which is {stage.outcome!r}",
                    )
                )
            row.values["_stage_obj"] = stage
        good = self.split(batch, rejections)
        used = {id(row.values["_stage_obj"]) for row in good}
        for stage in new_stages.values():
            if id(stage) in used:
                stage.save()
                self.stages[stage.name] = stage
        new_reasons: dict[str, LostReason] = {}
        for row in good:
            row.values["stage_id"] = row.values.pop("_stage_obj").pk
            name = row.values.pop("_lost_reason")
            reason = None
            if name:
                reason = self.reasons.get(name.lower()) or new_reasons.get(name.lower())
                if reason is None:
                    # The first spelling seen creates it; later case variants match it.
                    reason = new_reasons[name.lower()] = LostReason(name=name)
            row.values["_reason_obj"] = reason
        if new_reasons:
            LostReason.objects.bulk_create(new_reasons.values())
            for reason in LostReason.objects.filter(
                name__in=[r.name for r in new_reasons.values()]
            ):
                self.reasons[reason.name.lower()] = reason
        for row in good:
            reason = row.values.pop("_reason_obj")
            row.values["lost_reason_id"] = (
                self.reasons[reason.name.lower()].pk if reason is not None else None
            )
        return good


class _SurveyLoader(_Loader):
    """A response names one record of two kinds: both links are always written, so moving it
    from a contact to a chat contact clears the other (the table's check wants exactly one)."""

    def compared_fields(self) -> list[str]:
        fields = super().compared_fields()
        return [
            *fields,
            *(name for name in ("contact_id", "chat_contact_id") if name not in fields),
        ]


class _DealItemLoader(_Loader):
    """The rows of one load for a deal replace that deal's items (CONTRACT.md section 1).

    A deal whose rows all sit in one batch and equal its stored items is left untouched, so a
    reload changes nothing. Rows count against the deal's items before the load: the same
    line again is unchanged, the same product with another quantity or price is updated,
    anything else is created.
    """

    def __init__(self, spec: Kind, header: list[str]):
        super().__init__(spec, header)
        self.seen: set[int] = set()
        # Items of a deal before this load not yet matched by a row; only for replaced deals.
        self.leftover: dict[int, Counter] = {}

    def write(self, batch: list[_Row], result: ImportResult) -> None:
        if not batch:
            return
        by_deal: dict[int, list[dict[str, Any]]] = {}
        for row in batch:
            by_deal.setdefault(row.values["deal_id"], []).append(row.values)
        first_seen = [deal_id for deal_id in by_deal if deal_id not in self.seen]
        stored: dict[int, Counter] = {deal_id: Counter() for deal_id in first_seen}
        for item in DealItem.objects.filter(deal_id__in=first_seen).values(
            "deal_id", "product_id", "quantity", "unit_price"
        ):
            stored[item["deal_id"]][_item_key(item)] += 1
        replace, to_insert = [], []
        for deal_id, rows in by_deal.items():
            keys = [_item_key(values) for values in rows]
            if deal_id not in self.seen:
                self.seen.add(deal_id)
                if Counter(keys) == stored[deal_id]:
                    result.unchanged += len(rows)
                    self.leftover[deal_id] = Counter()
                    continue
                replace.append(deal_id)
                self.leftover[deal_id] = stored[deal_id]
            leftover = self.leftover[deal_id]
            products = Counter(product_id for product_id, _, _ in leftover.elements())
            for key in keys:
                if leftover[key] > 0:
                    leftover[key] -= 1
                    products[key[0]] -= 1
                    result.unchanged += 1
                elif products[key[0]] > 0:
                    products[key[0]] -= 1
                    result.updated += 1
                else:
                    result.created += 1
            to_insert.extend(rows)
        if replace:
            DealItem.objects.filter(deal_id__in=replace).delete()
        _bulk_write(DealItem, to_insert, ["deal_id", *self.spec.fields], upsert=False)


def _bulk_write(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    attnames: list[str],
    *,
    upsert: bool = True,
) -> None:
    """INSERT (ON CONFLICT (external_id) DO UPDATE): few statements per batch, never one per row.

    `rows` hold attnames; `attnames` are the loaded ones, which a conflict overwrites.

    ON CONFLICT runs on SQLite (3.24+) and PostgreSQL. It skips bulk_create's per-value
    compilation, which cost two thirds of a 100,000-deal load; the values are adapted here:
    strings, numbers and decimals pass as they are, timestamps go through the field.
    """
    if not rows:
        return
    meta = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    now = timezone.now()
    # Every column is inserted (a new row needs the defaults Django would give it, e.g. the
    # identity resolver's bookkeeping); a conflict updates only the loaded ones and updated_at.
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.attname not in attnames and f.attname != "external_id":
            defaults[f.attname] = f.get_default()
    updated = [f.column for f in fields if f.attname in attnames or getattr(f, "auto_now", False)]
    # Timestamps go through the field (SQLite stores them as UTC text); the rest pass as is.
    adapters = [
        partial(_prep, f, connection) if isinstance(f, models.DateTimeField) else None
        for f in fields
    ]
    columns = ", ".join(quote(f.column) for f in fields)
    one_row = f"({', '.join(['%s'] * len(fields))})"
    conflict = ""
    if upsert:
        assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in updated)
        conflict = f" ON CONFLICT ({quote('external_id')}) DO UPDATE SET {assignments}"
    params = []
    for row in rows:
        for f, adapt in zip(fields, adapters, strict=True):
            value = row[f.attname] if f.attname in row else defaults[f.attname]
            params.append(adapt(value) if adapt is not None and value is not None else value)
    width = len(fields)
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array parameter per column: psycopg need not parse thousands of placeholders
            # (that parsing cost more than the insert itself).
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}){conflict}",
                [params[i::width] for i in range(width)],
            )
            return
        # Elsewhere multi-row VALUES: one statement per chunk, under SQLite's parameter limit.
        per_statement = max(1, 20000 // width)
        for start in range(0, len(rows), per_statement):
            count = min(per_statement, len(rows) - start)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {', '.join([one_row] * count)}{conflict}",
                params[start * width : (start + count) * width],
            )


def _prep(field: models.Field, connection: Any, value: Any) -> Any:
    if connection.vendor == "sqlite":
        # What Django's SQLite backend stores, without its per-value checks (a third of a load).
        return str(value.astimezone(UTC).replace(tzinfo=None))
    return field.get_db_prep_save(value, connection)


def _item_key(values: dict[str, Any]) -> tuple[int, Decimal, Decimal]:
    # Decimal("2") == Decimal("2.00") and they hash alike, so stored and parsed compare equal.
    return (values["product_id"], values["quantity"], values["unit_price"])


def rejected_rows_writer(header: Iterable[str], out: TextIO) -> Callable[[Rejection], None]:
    """A csv writer for rejected rows: the original cells plus a `reason` column.

    The file is meant to be opened in a spreadsheet and fixed, so a cell a spreadsheet would run
    as a formula gets a leading apostrophe, by the API export's rule (CSV injection).
    """
    from insights.api.export import csv_cell  # the one rule; insights imports customers

    header = list(header)
    writer = csv.writer(out)
    writer.writerow([csv_cell(name) for name in [*header, "reason"]])

    def write(rejection: Rejection) -> None:
        cells = list(rejection.values[: len(header)])
        cells += [""] * (len(header) - len(cells))
        writer.writerow([csv_cell(cell) for cell in [*cells, rejection.reason]])

    return write
