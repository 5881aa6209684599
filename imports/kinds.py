"""The per-kind specs: which columns a kind has, how its cells parse, what it refers to."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models

from chats.models import (
    SURVEY_SCORE_RANGES,
    ChatContact,
    ChatRoom,
    Holiday,
    ServiceTarget,
    SurveyResponse,
)
from customers.keys import email_key, phone_key
from customers.models import Company, Contact
from deals.models import (
    Deal,
    DealChange,
    DealItem,
    ExchangeRate,
    LostReason,
    PipelineStage,
    Product,
    SalesTarget,
)
from imports.cells import MONEY_LIMIT, QUANTITY_LIMIT, Cells, field_length
from imports.results import Row


@dataclass(frozen=True)
class Ref:
    """A column naming another record: resolved per batch with one query."""

    column: str
    model: type[models.Model]
    lookup: str  # the referenced model's field the cell holds
    attname: str  # where the resolved id goes in this row's values
    missing: str  # reason when nothing matches; {value} is the cell


def _company(c: Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "name": c.text("name", max_length=field_length(Company, "name"), required=True),
        "industry": c.text("industry", max_length=field_length(Company, "industry")),
        "created_at": c.timestamp("created_at"),
    }


def _identity(c: Cells, model: type[models.Model]) -> dict[str, Any]:
    email = c.text("email", max_length=field_length(model, "email"))
    phone = c.text("phone", max_length=field_length(model, "phone"))
    # Bulk writes bypass Model.save, which computes the keys, so compute them here; an
    # email or phone that does not normalise is kept as written with an empty key.
    return {
        "email": email,
        "phone": phone,
        "email_key": email_key(email),
        "phone_key": phone_key(phone),
    }


def _contact(c: Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "first_name": c.text("first_name", max_length=field_length(Contact, "first_name")),
        "last_name": c.text("last_name", max_length=field_length(Contact, "last_name")),
        **_identity(c, Contact),
        "source": c.text("source", max_length=field_length(Contact, "source")),
        "country": _country(c),
        "city": c.text("city", max_length=field_length(Contact, "city")),
        "created_at": c.timestamp("created_at", required=True),
    }


def _country(c: Cells) -> str:
    """ISO 3166-1 alpha-2 in any case, stored upper-case; anything but two letters rejects."""
    value = c.text("country", max_length=100)
    if value and not (len(value) == 2 and value.isascii() and value.isalpha()):
        c.fail("country", f"not a two-letter country code: {value!r}")
    return value.upper()


def _chat_contact(c: Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "channel": c.text(
            "channel", max_length=field_length(ChatContact, "channel"), required=True
        ),
        "name": c.text("name", max_length=field_length(ChatContact, "name")),
        **_identity(c, ChatContact),
        "created_at": c.timestamp("created_at", required=True),
    }


def _chat_room(c: Cells) -> dict[str, Any]:
    # A room belongs to a chat contact: a blank cell is "required", not a database error.
    c.text("chat_contact_external_id", max_length=100, required=True)
    created_at = c.timestamp("created_at", required=True)
    first_response_at = c.timestamp("first_response_at")
    resolved_at = c.timestamp("resolved_at")
    c.not_before("first_response_at", first_response_at, "created_at", created_at)
    c.not_before("resolved_at", resolved_at, "created_at", created_at)
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "created_at": created_at,
        "first_response_at": first_response_at,
        "resolved_at": resolved_at,
        "agent": c.text("agent", max_length=field_length(ChatRoom, "agent")),
        "csat_score": c.integer("csat_score", low=1, high=5),
    }


SURVEY_COMMENT_MAX = 10_000
SURVEY_RECORD_COLUMNS = ("contact_external_id", "chat_contact_external_id")


def _survey_response(c: Cells) -> dict[str, Any]:
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


def _product(c: Cells) -> dict[str, Any]:
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "name": c.text("name", max_length=field_length(Product, "name"), required=True),
        "sku": c.text("sku", max_length=field_length(Product, "sku")),
        "price": c.decimal("price", limit=MONEY_LIMIT, places=2),
    }


OUTCOMES = {choice.value for choice in PipelineStage.Outcome}


def _deal(c: Cells) -> dict[str, Any]:
    outcome = c.record.get("outcome", "").strip().lower()
    if outcome and outcome not in OUTCOMES:
        c.fail("outcome", f"must be open, won or lost, not {outcome!r}")
    currency = c.currency("currency")
    return {
        "external_id": c.text("external_id", max_length=100, required=True),
        "name": c.text("name", max_length=field_length(Deal, "name")),
        "win_probability": c.integer("win_probability", low=0, high=100),
        "amount": c.decimal("amount", limit=MONEY_LIMIT, places=2, required=True),
        "currency": currency or settings.INSIGHTS_CURRENCY,
        "created_at": c.timestamp("created_at", required=True),
        "closed_at": c.timestamp("closed_at"),
        # A bare YYYY-MM-DD is that date's local midnight, as any timestamp without an offset.
        "expected_close_at": c.timestamp("expected_close_at"),
        # Resolved per batch (DealLoader): the stage by name, the lost reason by catalogue.
        "_stage": c.text("stage", max_length=field_length(PipelineStage, "name"), required=True),
        "_outcome": outcome,
        "_lost_reason": c.text("lost_reason", max_length=field_length(LostReason, "name")),
    }


def _deal_item(c: Cells) -> dict[str, Any]:
    c.text("deal_external_id", max_length=100, required=True)
    c.text("product_external_id", max_length=100, required=True)
    return {
        "quantity": c.decimal("quantity", limit=QUANTITY_LIMIT, places=2, required=True),
        "unit_price": c.decimal("unit_price", limit=MONEY_LIMIT, places=2, required=True),
    }


def _stage(c: Cells) -> dict[str, Any]:
    outcome = c.text("outcome", max_length=10, required=True).lower()
    if outcome and outcome not in OUTCOMES:
        c.fail("outcome", f"must be open, won or lost, not {outcome!r}")
    probability = c.integer("win_probability", low=0, high=100)
    if probability is None:
        probability = 100 if outcome == PipelineStage.Outcome.WON else 0
    order = c.integer("order", low=0, high=32767)
    return {
        "name": c.text("name", max_length=field_length(PipelineStage, "name"), required=True),
        "outcome": outcome,
        "default_win_probability": probability,
        "order": order or 0,
    }


# ExchangeRate.rate is NUMERIC(24, 10): below 10^14 with at most ten decimals.
RATE_LIMIT = Decimal(10) ** 14


def _exchange_rate(c: Cells) -> dict[str, Any]:
    rate = c.decimal("rate", limit=RATE_LIMIT, places=10, required=True)
    if rate is not None and rate <= 0:
        c.fail("rate", "must be more than 0")
    return {
        "currency": c.currency("currency", required=True),
        "date": c.date("date", required=True),
        "rate": rate,
    }


def _sales_target(c: Cells) -> dict[str, Any]:
    return {
        "month": c.month("month", required=True),
        "amount": c.decimal("amount", limit=MONEY_LIMIT, places=2, required=True),
    }


# PositiveIntegerField: what every database holds (about 68 years in seconds).
SECONDS_LIMIT = 2_147_483_647
CLOCKS = {choice.value for choice in ServiceTarget.Clock}


def _service_target(c: Cells) -> dict[str, Any]:
    clock = c.text("clock", max_length=10, required=True).lower()
    if clock and clock not in CLOCKS:
        c.fail("clock", f"must be calendar or business, not {clock!r}")
    return {
        "channel": c.text("channel", max_length=field_length(ServiceTarget, "channel")),
        "first_response_s": c.integer("first_response_s", low=0, high=SECONDS_LIMIT),
        "resolution_s": c.integer("resolution_s", low=0, high=SECONDS_LIMIT),
        "clock": clock,
    }


def _holiday(c: Cells) -> dict[str, Any]:
    return {
        "date": c.date("date", required=True),
        "name": c.text("name", max_length=field_length(Holiday, "name")),
    }


# The columns of a deal's history; a blank cell keeps the previous recorded value.
DEAL_CHANGE_FIELDS = ("stage_name", "win_probability", "amount", "currency", "expected_close_at")


def _deal_change(c: Cells) -> dict[str, Any]:
    c.text("deal_external_id", max_length=100, required=True)
    return {
        "changed_at": c.timestamp("changed_at", required=True),
        "stage_name": c.text("stage", max_length=field_length(DealChange, "stage_name")),
        "win_probability": c.integer("win_probability", low=0, high=100),
        "amount": c.decimal("amount", limit=MONEY_LIMIT, places=2),
        "currency": c.currency("currency"),
        "expected_close_at": c.timestamp("expected_close_at"),
    }


def _user_ref() -> Ref:
    return Ref("owner", get_user_model(), "username", "owner_id", "unknown user {value!r}")


_COMPANY_REF = Ref(
    "company_external_id",
    Company,
    "external_id",
    "company_id",
    "no company with external_id {value!r} (load companies first)",
)
_CONTACT_REF = Ref(
    "contact_external_id",
    Contact,
    "external_id",
    "contact_id",
    "no contact with external_id {value!r} (load contacts first)",
)

_DEAL_REF = Ref(
    "deal_external_id",
    Deal,
    "external_id",
    "deal_id",
    "no deal with external_id {value!r} (load deals first)",
)


@dataclass(frozen=True)
class Kind:
    name: str
    model: type[models.Model]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    parse: Callable[[Cells], dict[str, Any]]
    refs: Callable[[], tuple[Ref, ...]]
    # Fields written and compared (besides refs' attnames); keys follow from email/phone.
    fields: tuple[str, ...]
    # The fields (after references are resolved) that name one stored record: the upsert key.
    key: tuple[str, ...] = ("external_id",)
    # Fields read from a column of another name (field -> column).
    column_of: dict[str, str] = field(default_factory=dict)
    # The key as the file gives it, before references are resolved: one record twice in a
    # batch is written before its second row is read. None: rows never collide.
    batch_key: Callable[[Row], Hashable | None] = lambda row: row.values.get("external_id")


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
            (
                "first_name",
                "last_name",
                "email",
                "phone",
                "company_external_id",
                "source",
                "owner",
                "country",
                "city",
            ),
            _contact,
            lambda: (_COMPANY_REF, _user_ref()),
            (
                "first_name",
                "last_name",
                "email",
                "phone",
                "source",
                "country",
                "city",
                "created_at",
            ),
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
                Ref(
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
                "expected_close_at",
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
                "expected_close_at",
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
                _DEAL_REF,
                Ref(
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
            ("comment", *SURVEY_RECORD_COLUMNS, "chat_room_external_id"),
            _survey_response,
            lambda: (
                _CONTACT_REF,
                Ref(
                    "chat_contact_external_id",
                    ChatContact,
                    "external_id",
                    "chat_contact_id",
                    "no chat contact with external_id {value!r} (load chat_contacts first)",
                ),
                Ref(
                    "chat_room_external_id",
                    ChatRoom,
                    "external_id",
                    "chat_room_id",
                    "no chat room with external_id {value!r} (load chat_rooms first)",
                ),
            ),
            ("kind", "score", "comment", "created_at"),
        ),
        Kind(
            "stages",
            PipelineStage,
            ("name", "outcome"),
            ("win_probability", "order"),
            _stage,
            lambda: (),
            ("outcome", "default_win_probability", "order"),
            key=("name",),
            column_of={"default_win_probability": "win_probability"},
            batch_key=lambda row: row.values["name"].lower(),
        ),
        Kind(
            "exchange_rates",
            ExchangeRate,
            ("currency", "date", "rate"),
            (),
            _exchange_rate,
            lambda: (),
            ("rate",),
            key=("currency", "date"),
            batch_key=lambda row: (row.values["currency"], row.values["date"]),
        ),
        Kind(
            "sales_targets",
            SalesTarget,
            ("month", "amount"),
            ("owner",),
            _sales_target,
            lambda: (_user_ref(),),
            ("amount",),
            key=("month", "owner_id"),
            batch_key=lambda row: (row.values["month"], row.refs.get("owner")),
        ),
        Kind(
            "service_targets",
            ServiceTarget,
            ("clock",),
            ("channel", "first_response_s", "resolution_s"),
            _service_target,
            lambda: (),
            ("first_response_s", "resolution_s", "clock"),
            key=("channel",),
            batch_key=lambda row: row.values["channel"],
        ),
        Kind(
            "holidays",
            Holiday,
            ("date",),
            ("name",),
            _holiday,
            lambda: (),
            ("name",),
            key=("date",),
            batch_key=lambda row: row.values["date"],
        ),
        Kind(
            "deal_changes",
            DealChange,
            ("deal_external_id", "changed_at"),
            ("stage", "win_probability", "amount", "currency", "expected_close_at"),
            _deal_change,
            lambda: (_DEAL_REF,),
            (*DEAL_CHANGE_FIELDS, "source"),
            key=("deal_id", "changed_at"),
            column_of={"stage_name": "stage"},
            batch_key=lambda row: (row.refs.get("deal_external_id"), row.values["changed_at"]),
        ),
    ]
}

# The kinds upserted by a key other than external_id (imports.loaders.KeyedLoader).
KEYED_KINDS = frozenset(name for name, kind in KINDS.items() if kind.key != ("external_id",))
