"""The admin's rules, row by row, for the Import CSV page (`manage.py import_records` has none).

A user at the page may write through a file exactly what the admin forms let them write:
- a row that would change an existing record needs the model's change permission and a record
  the user may see (accounts.admin_scoping: a sales rep's own contacts and deals); a row that
  adds one needs the add permission;
- the owner of a contact or deal: a scoped user may name only themselves (owner is read-only
  for them in the admin) and a record they add is theirs; an unowned new record is its
  creator's, as in the admin;
- a reference to an owned record (a deal's contact, an item's deal, an answer's contact) must
  be one the user may see; one they may not is reported exactly like one that does not exist,
  so the file learns nothing about other people's records;
- a deal naming a pipeline stage or lost reason that is not in the catalogue creates it only
  for a user who may add one; a product is never created by a reference.

The engine calls RowRights.check once per batch, after references are resolved and before
anything is created or written (imports.loaders.Loader.load). The rule functions are those of
the admin (accounts.admin_scoping), not a copy.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.admin_scoping import (
    may_add,
    may_assign_owner,
    may_change,
    may_own,
    new_record_owner,
    owner_scoped,
    owner_scoped_via,
    sees_all_records,
)
from chats.models import SurveyResponse
from deals.models import Deal, DealChange, DealItem, LostReason, PipelineStage
from imports.results import Row

# The loader (imports.loaders.Loader) is duck-typed: spec, refs, file_columns, writes_column(),
# stored() and key_of() for the catalogues keyed otherwise, and for deals stage_named() and
# reasons. Typing it here would make the modules a cycle.
Loader = Any

NOT_YOURS = "not one of your records: you may not change it"


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


def _plural(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name_plural)


class RowRights:
    """What `user` may write, checked on each batch of parsed rows."""

    def __init__(self, *, user: Any) -> None:
        self.user = user
        self.scoped = not sees_all_records(user)

    def check(self, loader: Loader, batch: list[Row]) -> None:
        """Add to each row the reasons the user may not write it (the loader then rejects it)."""
        if not batch:
            return
        model = loader.spec.model
        self._refs(loader, batch)
        if loader.spec.key == ("external_id",) and _has_field(model, "external_id"):
            self._existing(loader, model, batch)
        elif hasattr(loader, "key_of"):
            self._keyed(loader, model, batch)
        if model in (DealItem, DealChange) and not may_change(self.user, Deal):
            # A deal's items and history are edited with the deal (its admin page).
            for row in batch:
                row.errors.append(("deal_external_id", f"you may not change {_plural(Deal)}"))
        if hasattr(loader, "stage_named"):  # deals: stages and lost reasons by name
            self._catalogue(loader, batch)

    def _refs(self, loader: Loader, batch: list[Row]) -> None:
        """A reference to an owned record the user may not see reads as a missing one."""
        if not self.scoped:
            return
        for ref in loader.refs:
            if not _has_field(ref.model, "owner"):
                continue
            ids = {row.values.get(ref.attname) for row in batch} - {None}
            if not ids:
                continue
            visible = set(
                owner_scoped(ref.model._default_manager.filter(pk__in=ids), self.user).values_list(
                    "pk", flat=True
                )
            )
            for row in batch:
                if row.values.get(ref.attname) not in visible | {None}:
                    row.values[ref.attname] = None
                    row.errors.append((ref.column, ref.missing.format(value=row.refs[ref.column])))

    def _existing(self, loader: Loader, model: type[models.Model], batch: list[Row]) -> None:
        keys = [row.values["external_id"] for row in batch]
        owned = _has_field(model, "owner")
        stored = model._default_manager.filter(external_id__in=keys)
        owners: dict[str, int | None] = dict(
            stored.values_list("external_id", "owner_id" if owned else "pk")
        )
        if owned:
            visible = {key for key, owner in owners.items() if may_own(self.user, owner)}
        elif model is SurveyResponse:
            visible = set(
                owner_scoped_via(stored, self.user, "contact").values_list("external_id", flat=True)
            )
        else:
            visible = set(owners)
        if owned:
            # The owner is written on every row, the file's column or not: a new record gets
            # the admin's owner, a record already stored keeps its own unless the file says.
            loader.writes_column("owner")
        for row in batch:
            key = row.values["external_id"]
            exists = key in owners
            if exists and key not in visible:
                row.errors.append(("external_id", NOT_YOURS))
                continue
            if exists and not may_change(self.user, model):
                row.errors.append(("external_id", f"you may not change {_plural(model)}"))
            if not exists and not may_add(self.user, model):
                row.errors.append(("external_id", f"you may not add {_plural(model)}"))
            if owned:
                self._owner(loader, row, owners.get(key) if exists else None, exists=exists)

    def _keyed(self, loader: Loader, model: type[models.Model], batch: list[Row]) -> None:
        """Catalogues keyed otherwise (stages by name, rates, targets, holidays, history)."""
        stored = {loader.key_of(record) for record in loader.stored(batch)}
        for row in batch:
            if loader.key_of(row.values) in stored:
                if not may_change(self.user, model):
                    row.errors.append(("", f"you may not change {_plural(model)}"))
            elif not may_add(self.user, model):
                row.errors.append(("", f"you may not add {_plural(model)}"))

    def _owner(self, loader: Loader, row: Row, stored: int | None, *, exists: bool) -> None:
        given = "owner" in row.refs
        owner_id = row.values.get("owner_id")
        if given and not may_assign_owner(self.user, owner_id):
            row.errors.append(("owner", "you may not assign records to another user"))
        elif not exists:
            row.values["owner_id"] = new_record_owner(self.user, owner_id)
        elif not given and not ("owner" in loader.file_columns and not self.scoped):
            # No owner in the row: a scoped user's record stays theirs; a file without the
            # column leaves every owner alone (an empty cell in it clears it, for a manager).
            row.values["owner_id"] = stored

    def _catalogue(self, loader: Any, batch: list[Row]) -> None:
        add_stage = may_add(self.user, PipelineStage)
        add_reason = may_add(self.user, LostReason)
        known_reasons = {name.lower() for name in getattr(loader, "reasons", {})}
        for row in batch:
            stage = row.values.get("_stage")
            if stage and not add_stage and loader.stage_named(stage) is None:
                row.errors.append(
                    ("stage", f"{stage!r} is not a pipeline stage, and you may not add stages")
                )
            reason = row.values.get("_lost_reason")
            if reason and not add_reason and reason.lower() not in known_reasons:
                row.errors.append(
                    (
                        "lost_reason",
                        f"{reason!r} is not in the catalogue, and you may not add lost reasons",
                    )
                )
