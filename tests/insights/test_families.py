"""One rebuild path: full and incremental rebuilds run the same families (insights.families)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection

from customers.models import Contact
from deals.models import Deal
from insights import families, freshness, watched
from insights.incremental import ChangeScope
from insights.models import ChangedRecord, FigureCache, RebuildRun, Segment
from insights.rebuild import REWRITTEN_TABLES, WHOLE_TABLES, insights_rebuild
from tests.factories import ContactFactory, DealFactory, StageFactory

pytestmark = pytest.mark.django_db(transaction=True)


class FakeFamily(families.WholeFamily):
    """A family that writes nothing and records how the orchestrator called it."""

    name = "fake"
    tables: tuple[str, ...] = ()
    follows_changes = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def changed_unlogged(self) -> bool:
        return False

    def full(self, run: families.RunContext) -> dict[str, int]:
        self.calls.append(("full", None))
        return {"fake_rows": 1}

    def take_off(self, scope: ChangeScope) -> None:
        self.calls.append(("take_off", _ids(scope.customers)))

    def add_back(self, scope: ChangeScope, run: families.RunContext) -> dict[str, int]:
        self.calls.append(("add_back", _ids(scope.customers)))
        return {"fake_rows": 2}


def _ids(select: str) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(select)
        return {row[0] for row in cursor.fetchall()}


def test_full_and_incremental_rebuilds_run_every_registered_family(monkeypatch):
    # given: a family registered after the real ones, and a customer with a won deal
    fake = FakeFamily()
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, fake))
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    deal = DealFactory(contact=ContactFactory(email="ani@contoh.id"), stage=won)

    # when: a full rebuild
    first = insights_rebuild(trigger="test", full=True)

    # then: the fake ran once, in order, and its phase and rows are recorded like the others'
    assert first.status == RebuildRun.Status.SUCCEEDED and first.rows["incremental"] == 0
    assert fake.calls == [("full", None)]
    assert first.rows["fake_rows"] == 1
    names = [family.name for family in families.FAMILIES]  # the fake is last
    assert [phase for phase in first.timings if phase in names] == names

    # when: a deal is edited and the default (incremental) rebuild runs
    fake.calls.clear()
    Deal.objects.filter(pk=deal.pk).update(amount=Decimal("7.00"))
    second = insights_rebuild(trigger="test")

    # then: the same fake took the customer's parts off before identity and added them back
    customer_id = Contact.objects.get(pk=deal.contact_id).customer_id
    assert second.status == RebuildRun.Status.SUCCEEDED, second.error
    assert second.rows["incremental"] == 1
    assert fake.calls == [("take_off", {customer_id}), ("add_back", {customer_id})]
    assert second.rows["fake_rows"] == 2
    assert [phase for phase in second.timings if phase in names] == names


def test_a_failing_family_rolls_the_whole_run_back(monkeypatch):
    # given: a good rebuild, then a family that breaks in its incremental step
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    deal = DealFactory(contact=ContactFactory(email="ani@contoh.id"), stage=won)
    insights_rebuild(trigger="test", full=True)

    class Broken(FakeFamily):
        def add_back(self, scope, run):
            raise RuntimeError("family broke")

    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, Broken()))
    Deal.objects.filter(pk=deal.pk).update(amount=Decimal("7.00"))

    # when
    with pytest.raises(RuntimeError, match="family broke"):
        insights_rebuild(trigger="test")

    # then: the run is failed and the change stays logged for the next one
    assert RebuildRun.objects.order_by("-id").first().status == RebuildRun.Status.FAILED
    assert ChangedRecord.objects.filter(kind="deal", record_id=deal.pk).exists()


def test_every_rollup_table_belongs_to_exactly_one_family():
    # The insights tables that are not rollups: the run log, the cache, saved segments and
    # the change log. Every other one is written by one family, so both paths rewrite it.
    not_rollups = {RebuildRun, FigureCache, Segment, ChangedRecord}
    rollups = {
        model._meta.db_table
        for model in apps.get_app_config("insights").get_models()
        if model not in not_rollups
    }
    owned = [table for family in families.FAMILIES for table in family.tables]
    assert sorted(owned) == sorted(rollups)  # no table twice, none left out
    assert len({family.name for family in families.FAMILIES}) == len(families.FAMILIES)
    assert set(owned) <= set(REWRITTEN_TABLES)
    whole = {t for f in families.FAMILIES if not f.follows_changes for t in f.tables}
    assert set(WHOLE_TABLES) == whole | {FigureCache._meta.db_table}


def test_the_watched_list_is_what_the_database_has_triggers_on():
    # The catalog (pg triggers / sqlite_master), not the list's own SQL, after every migration.
    assert watched.trigger_tables(connection) == set(watched.logged_tables())
    # ... and it feeds the change log's kinds and the after-save hook.
    assert set(ChangedRecord.Kind) == {entry.kind for entry in watched.WATCHED if entry.logged}
    assert set(freshness.WATCHED_MODELS) == {entry.model for entry in watched.WATCHED}


def test_a_family_input_the_log_does_not_see_makes_the_run_go_ahead(monkeypatch):
    # given: a rebuild, then nothing in the change log, but a family says an input changed
    ContactFactory(email="ani@contoh.id")
    insights_rebuild(trigger="test", full=True)
    assert insights_rebuild(trigger="test").status == RebuildRun.Status.UNCHANGED
    fake = FakeFamily()
    monkeypatch.setattr(fake, "changed_unlogged", lambda: True)
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, fake))

    # when
    run = insights_rebuild(trigger="test")

    # then: an incremental run, not "unchanged", and every family ran
    assert run.status == RebuildRun.Status.SUCCEEDED and run.rows["incremental"] == 1
    assert [name for name, _ in fake.calls] == ["take_off", "add_back"]
