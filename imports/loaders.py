"""Loaders: write a batch of valid rows; deals also create stages and lost reasons."""

from __future__ import annotations

import bisect
from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Model

from chats.models import ChatContact
from customers.models import Contact, IdentityChange
from deals.models import DealChange, DealItem, LostReason, PipelineStage
from imports.kinds import DEAL_CHANGE_FIELDS, Kind
from imports.results import ImportResult, Rejection, Row
from imports.vendor_sql import bulk_write

if TYPE_CHECKING:
    from imports.scoping import RowRights


class Loader:
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
        self.file_columns = frozenset(header)
        # The import page's per-row permission check (None: the command's full rights).
        self.rights: RowRights | None = None
        self.column_of = {
            **self.COLUMN_OF,
            **spec.column_of,
            **{ref.attname: ref.column for ref in self.refs},
        }

    def checkpoint(self) -> dict[str, Any]:
        """What this loader remembers between batches, to restore if a batch is rolled back."""
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def writes_column(self, column: str) -> None:
        """Write `column`'s field on every row, though the file lacks it (the page's owner)."""
        self.header.add(column)

    def load(self, batch: list[Row], result: ImportResult, rejections: list[Rejection]) -> None:
        good = self.resolve_refs(batch, rejections)
        if self.rights is not None:
            # Before anything is created (a stage, a lost reason) or written.
            self.rights.check(self, good)
            good = self.split(good, rejections)
        good = self.resolve_extra(good, rejections)
        self.write(good, result)

    def resolve_refs(self, batch: list[Row], rejections: list[Rejection]) -> list[Row]:
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
    def split(batch: list[Row], rejections: list[Rejection]) -> list[Row]:
        good = []
        for row in batch:
            if row.errors:
                rejections.append(Rejection(row.line, row.raw, row.errors))
            else:
                good.append(row)
        return good

    def resolve_extra(self, batch: list[Row], rejections: list[Rejection]) -> list[Row]:
        return batch

    def compared_fields(self) -> list[str]:
        # A column the file does not have leaves the stored value alone (an empty cell clears it).
        return [
            name
            for name in [*self.spec.fields, *(ref.attname for ref in self.refs)]
            if self.column_of.get(name, name) in self.header
        ]

    def write(self, batch: list[Row], result: ImportResult) -> None:
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
        bulk_write(model, to_write, written)


class DealLoader(Loader):
    """Deals also resolve their stage (created when new) and lost reason (catalogue)."""

    def __init__(self, spec: Kind, header: list[str]):
        super().__init__(spec, header)
        self.stages: dict[str, PipelineStage] = {s.name: s for s in PipelineStage.objects.all()}
        self.reasons: dict[str, LostReason] = {r.name.lower(): r for r in LostReason.objects.all()}

    def checkpoint(self) -> dict[str, Any]:
        return {"stages": dict(self.stages), "reasons": dict(self.reasons)}

    def stage_named(self, name: str) -> PipelineStage | None:
        stage = self.stages.get(name)
        if stage is None:
            # Exact name first; else the same name in another case, so "won" finds "Won".
            matches = [s for s in self.stages.values() if s.name.lower() == name.lower()]
            stage = matches[0] if len(matches) == 1 else None
        return stage

    def resolve_extra(self, batch: list[Row], rejections: list[Rejection]) -> list[Row]:
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


class SurveyLoader(Loader):
    """A response names one record of two kinds: both links are always written, so moving it
    from a contact to a chat contact clears the other (the table's check wants exactly one)."""

    def compared_fields(self) -> list[str]:
        fields = super().compared_fields()
        return [
            *fields,
            *(name for name in ("contact_id", "chat_contact_id") if name not in fields),
        ]


class DealItemLoader(Loader):
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

    def checkpoint(self) -> dict[str, Any]:
        return {
            "seen": set(self.seen),
            "leftover": {deal_id: Counter(c) for deal_id, c in self.leftover.items()},
        }

    def write(self, batch: list[Row], result: ImportResult) -> None:
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
            stored[item["deal_id"]][item_key(item)] += 1
        replace, to_insert = [], []
        for deal_id, rows in by_deal.items():
            keys = [item_key(values) for values in rows]
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
        bulk_write(DealItem, to_insert, ["deal_id", *self.spec.fields], upsert=False)


def item_key(values: dict[str, Any]) -> tuple[int, Decimal, Decimal]:
    # Decimal("2") == Decimal("2.00") and they hash alike, so stored and parsed compare equal.
    return (values["product_id"], values["quantity"], values["unit_price"])


class KeyedLoader(Loader):
    """Upserts the small catalogues keyed by something else than an external id (stages by
    name in any case, exchange rates by currency and date, targets, holidays, deal history).

    The tables are small, so rows are compared in Python and written with the ORM's bulk
    create and update; a row equal to its stored record is counted unchanged and not written.
    """

    def stored(self, batch: list[Row]) -> list[Model]:
        model, first = self.spec.model, self.spec.key[0]
        if self.spec.name == "stages":
            return list(model._default_manager.all())
        return list(
            model._default_manager.filter(**{f"{first}__in": {row.values[first] for row in batch}})
        )

    def key_of(self, values: dict[str, Any] | Model) -> tuple[Any, ...]:
        get = values.get if isinstance(values, dict) else lambda name: getattr(values, name)
        key = tuple(get(name) for name in self.spec.key)
        if self.spec.name == "stages":
            return (key[0].lower(),)
        return key

    def prepare(self, batch: list[Row], existing: dict[tuple[Any, ...], Model]) -> None:
        """Complete the rows' values before they are compared (deal history fills blanks)."""

    def write(self, batch: list[Row], result: ImportResult) -> None:
        if not batch:
            return
        model = self.spec.model
        existing: dict[tuple[Any, ...], Model] = {}
        for record in self.stored(batch):
            key = self.key_of(record)
            # Stages: the exact spelling wins over another case of the same name.
            if key not in existing or getattr(record, "name", None) in {
                row.values.get("name") for row in batch
            }:
                existing[key] = record
        self.prepare(batch, existing)
        compared = self.compared_fields()
        to_create, to_update = [], []
        for row in batch:
            record = existing.get(self.key_of(row.values))
            if record is None:
                to_create.append(model(**row.values))
                result.created += 1
            elif all(getattr(record, name) == row.values[name] for name in compared):
                result.unchanged += 1
            else:
                for name in compared:
                    setattr(record, name, row.values[name])
                to_update.append(record)
                result.updated += 1
        model._default_manager.bulk_create(to_create)
        if to_update:
            model._default_manager.bulk_update(to_update, compared)


class DealChangeLoader(KeyedLoader):
    """A deal's imported history (CONTRACT §1 `deal_changes`): a blank cell keeps the value
    recorded before it (the deal's latest history row before `changed_at`, of any source, or a
    row of this load), and a deal's first row leaves it empty. The deal itself is never touched.
    """

    def compared_fields(self) -> list[str]:
        return [*DEAL_CHANGE_FIELDS, "source"]

    def stored(self, batch: list[Row]) -> list[Model]:
        # Every row of the batch's deals: the earlier ones give the values a blank cell keeps.
        deal_ids = {row.values["deal_id"] for row in batch}
        return list(DealChange.objects.filter(deal_id__in=deal_ids).order_by("changed_at", "id"))

    def prepare(self, batch: list[Row], existing: dict[tuple[Any, ...], Model]) -> None:
        history: dict[int, list[tuple[Any, dict[str, Any]]]] = {}
        for (deal_id, changed_at), record in existing.items():
            values = {name: getattr(record, name) for name in DEAL_CHANGE_FIELDS}
            history.setdefault(deal_id, []).append((changed_at, values))
        for entries in history.values():
            entries.sort(key=lambda entry: entry[0])
        for row in sorted(batch, key=lambda row: (row.values["deal_id"], row.values["changed_at"])):
            values = row.values
            values["source"] = DealChange.Source.IMPORTED
            entries = history.setdefault(values["deal_id"], [])
            times = [changed_at for changed_at, _ in entries]
            at = bisect.bisect_left(times, values["changed_at"])
            previous = entries[at - 1][1] if at > 0 else None
            for name in DEAL_CHANGE_FIELDS:
                if values[name] in (None, "") and previous is not None:
                    values[name] = previous[name]
            filled = {name: values[name] for name in DEAL_CHANGE_FIELDS}
            if at < len(entries) and entries[at][0] == values["changed_at"]:
                entries[at] = (values["changed_at"], filled)
            else:
                entries.insert(at, (values["changed_at"], filled))
