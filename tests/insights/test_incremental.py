"""An incremental rebuild writes exactly what a full one writes (issue 19), and no more work.

Random records are resolved and rolled up in full; then, several times, random edits of every
kind a user makes (deals and their items, stages, lost reasons, rooms, contacts that merge,
split or move, deletions) are followed by the default (incremental) rebuild, and every rollup
table and cached figure is compared with what a full rebuild of the same records writes.
"""

from __future__ import annotations

import random
import struct
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from chats.models import ChatContact, ChatRoom, Holiday, ServiceTarget
from customers.models import Contact, Customer
from deals.models import Deal, DealItem, ExchangeRate, LostReason, PipelineStage
from insights import incremental, rollup
from insights.customer_value import customer_value_rebuild
from insights.models import (
    ChangedRecord,
    CustomerHealth,
    CustomerNpsDay,
    CustomerStats,
    CustomerValue,
    CustomerValueFit,
    CustomerValueSpend,
    CustomerValueTriple,
    CustomerWonDay,
    DailySum,
    DealFact,
    FigureCache,
    ForecastBacktest,
    GapCell,
    LapseChain,
    OpenPipelineDay,
    OwnerDaySum,
    RebuildRun,
    RepeatCell,
    RetentionCell,
    ServiceDayGroup,
    ServiceMonthGroup,
    ServiceRoomFact,
    ServiceState,
    ServiceWeekGroup,
    SurveyDay,
    SurveyRoomDay,
)
from insights.rebuild import insights_rebuild
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    DealItemFactory,
    ProductFactory,
    StageFactory,
    SurveyResponseFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.cache_warm]
FIRST = datetime(2024, 11, 1, tzinfo=UTC)
ROLLUP_TABLES = (
    DealFact,
    GapCell,
    DailySum,
    RepeatCell,
    CustomerWonDay,
    CustomerStats,
    LapseChain,
    RetentionCell,
    ServiceRoomFact,
    ServiceDayGroup,
    ServiceWeekGroup,
    ServiceMonthGroup,
    SurveyDay,
    SurveyRoomDay,
    CustomerValue,
    CustomerValueFit,
    CustomerValueTriple,
    CustomerValueSpend,
    CustomerHealth,
    CustomerNpsDay,
    OwnerDaySum,
    OpenPipelineDay,
    ForecastBacktest,
)


def moment(rng: random.Random) -> datetime:
    return FIRST + timedelta(minutes=rng.randrange(0, 700 * 24 * 60))


def _value(value: object, width: int | None) -> object:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        # Packed durations and their indexes, sorted ascending (insights.service): decoded, so
        # a difference reads as numbers.
        code = ">i" if width == 4 else ">q"
        return struct.unpack(f">{len(value) // struct.calcsize(code)}{code[1]}", value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def table_rows(model) -> list[tuple]:
    names = [f.attname for f in model._meta.concrete_fields if not f.primary_key or
             model._meta.pk.attname not in ("id",)]  # fmt: skip
    names = [name for name in names if name != "id"]
    rows = []
    for row in model.objects.values_list(*names):
        record = dict(zip(names, row, strict=True))
        width = record.get("width")
        rows.append(tuple(_value(value, width) for value in row))
    return sorted(rows, key=repr)


def cached_figures() -> dict[str, object]:
    figures = {}
    for key, payload in FigureCache.objects.values_list("key", "payload"):
        parts = key.split("|")
        parts[2] = "run"  # the key holds the run's id (insights.queries.cache_key)
        if parts[3] == "service" and payload.get("state"):
            # The rebuild's now (METRICS.md §L), a moment apart between the two rebuilds.
            payload["state"][0] = "now"
        figures["|".join(parts)] = payload
    return figures


def everything() -> dict[str, object]:
    state: dict[str, object] = {model.__name__: table_rows(model) for model in ROLLUP_TABLES}
    # The backlog at now (the two rebuilds run a moment apart; the data are months older).
    state["ServiceState"] = list(
        ServiceState.objects.values_list(
            "calendar_key", "open_rooms", "under_1h", "from_1h_24h", "from_1d_7d", "over_7d"
        )
    )
    state["FigureCache"] = cached_figures()
    return state


class World:
    """Random CRM and chat records, and the edits a day of work makes to them."""

    def __init__(
        self,
        rng: random.Random,
        *,
        people: int = 12,
        contacts: int = 16,
        deals: int = 40,
        currencies: tuple[str, ...] = ("IDR", "IDR", "idr", "", "USD", "usd", "EUR"),
    ) -> None:
        self.rng = rng
        self.currencies = currencies
        self.companies = [CompanyFactory() for _ in range(3)]
        self.products = [ProductFactory() for _ in range(4)]
        self.reasons = [LostReason.objects.create(name=n) for n in ("Mahal", "lambat", "")]
        self.stages = [
            StageFactory(name="Open", outcome="open", default_win_probability=40),
            StageFactory(name="Won", outcome="won", default_win_probability=100),
            StageFactory(name="Lost", outcome="lost", default_win_probability=0),
            StageFactory(name="Open 2", outcome="open", default_win_probability=70),
        ]
        self.owners = [None, *(UserFactory(username=f"rep{n}") for n in range(3))]
        self.owner_rng = random.Random(29)  # its own: the other records stay as they were
        self.emails = [f"orang{n}@contoh.id" for n in range(people)]
        self.phones = [f"0812-3456-{n:04d}" for n in range(people)]
        # USD has rates (some deals close before the first: left out); EUR has none.
        for day in (date(2025, 1, 1), date(2025, 6, 1), date(2026, 1, 1)):
            ExchangeRate.objects.create(currency="USD", date=day, rate=Decimal("15800.5"))
        for _ in range(contacts):
            self.contact_add()
        for _ in range(12):
            self.chat_add()
        for _ in range(deals):
            self.deal_add()
        for _ in range(30):
            self.room_add()
        # Service levels (METRICS.md §L): a business-hours target, a calendar default.
        ServiceTarget.objects.create(
            channel="WhatsApp", first_response_s=1800, resolution_s=8 * 3600, clock="business"
        )
        ServiceTarget.objects.create(channel="", first_response_s=3600, resolution_s=86400)
        Holiday.objects.create(date=date(2025, 8, 18), name="Cuti bersama")

    # --- records ------------------------------------------------------------------------
    def contact_add(self) -> None:
        rng = self.rng
        ContactFactory(
            email=rng.choice(["", *self.emails]),
            phone=rng.choice(["", *self.phones]),
            source=rng.choice(["Website", "Referral", ""]),
            company=rng.choice([None, *self.companies]),
            created_at=moment(rng),
        )

    def chat_add(self) -> None:
        rng = self.rng
        ChatContactFactory(
            email=rng.choice(["", *self.emails]),
            phone=rng.choice(["", *self.phones]),
            channel=rng.choice(["WhatsApp", "Instagram"]),
            created_at=moment(rng),
        )

    def deal_add(self) -> None:
        rng = self.rng
        created = moment(rng)
        made = DealFactory(
            contact=rng.choice([None, *Contact.objects.all()]),
            stage=rng.choice(self.stages),
            amount=Decimal(rng.randrange(0, 100_000)) / 100,
            created_at=created,
            closed_at=rng.choice([None, created + timedelta(hours=rng.randrange(0, 900))]),
            lost_reason=rng.choice([None, *self.reasons]),
            win_probability=rng.choice([None, None, 0, 35, 100]),
            owner=self.owner_rng.choice(self.owners),
            expected_close_at=rng.choice([None, moment(rng)]),
            currency=rng.choice(self.currencies) if len(self.currencies) > 1 else "IDR",
        )
        for _ in range(rng.randrange(0, 3)):
            DealItemFactory(
                deal=made,
                product=rng.choice(self.products),
                quantity=Decimal(rng.randrange(1, 500)) / 100,
                unit_price=Decimal(rng.randrange(1, 10_000)) / 100,
            )

    def room_add(self) -> None:
        rng = self.rng
        opened = moment(rng)
        resolved = rng.choice([None, opened + timedelta(minutes=rng.randrange(1, 5000))])
        ChatRoomFactory(
            chat_contact=rng.choice(list(ChatContact.objects.all())),
            created_at=opened,
            first_response_at=opened + timedelta(minutes=rng.randrange(0, 60)),
            resolved_at=resolved,
            agent=rng.choice(["", "Sari", "Rudi"]),
            csat_score=rng.choice([None, 3, 5]),
        )
        if rng.random() < 0.3:
            SurveyResponseFactory(
                chat_contact=rng.choice(list(ChatContact.objects.all())),
                score=rng.randrange(0, 11),
                created_at=opened,
                chat_room=rng.choice([None, *ChatRoom.objects.all()]),
            )

    # --- a day's edits ------------------------------------------------------------------
    def edit(self) -> None:
        rng = self.rng
        edits = [
            self.deal_edit,
            self.deal_edit,
            self.deal_add,
            self.deal_delete,
            self.item_edit,
            self.room_edit,
            self.room_add,
            self.room_delete,
            self.contact_edit,
            self.contact_add,
            self.contact_delete,
            self.stage_or_reason_edit,
            self.rate_edit,
            self.contact_update_sql,
        ]
        for _ in range(rng.randrange(1, 6)):
            rng.choice(edits)()

    def deal_edit(self) -> None:
        rng = self.rng
        deal = rng.choice(list(Deal.objects.all()))
        field = rng.choice(
            [
                "amount",
                "stage",
                "closed_at",
                "contact",
                "created_at",
                "probability",
                "expected",
                "owner",
            ]  # fmt: skip
        )
        if field == "probability":
            deal.win_probability = rng.choice([None, 10, 60, 100])
        elif field == "owner":
            deal.owner = rng.choice(self.owners)
        elif field == "expected":
            deal.expected_close_at = rng.choice([None, moment(rng)])
        elif field == "amount":
            deal.amount = Decimal(rng.randrange(0, 100_000)) / 100
        elif field == "stage":
            deal.stage = rng.choice(self.stages)
        elif field == "closed_at":
            deal.closed_at = moment(rng)
        elif field == "contact":
            deal.contact = rng.choice([None, *Contact.objects.all()])
        else:
            deal.created_at = moment(rng)
        deal.save()

    def deal_delete(self) -> None:
        self.rng.choice(list(Deal.objects.all())).delete()

    def item_edit(self) -> None:
        rng = self.rng
        items = list(DealItem.objects.all())
        if items and rng.random() < 0.5:
            item = rng.choice(items)
            item.quantity = Decimal(rng.randrange(1, 500)) / 100
            item.save()
        else:
            DealItemFactory(deal=rng.choice(list(Deal.objects.all())),
                            product=rng.choice(self.products))  # fmt: skip

    def room_edit(self) -> None:
        rng = self.rng
        room = rng.choice(list(ChatRoom.objects.all()))
        if rng.random() < 0.5:
            room.chat_contact = rng.choice(list(ChatContact.objects.all()))
        else:
            room.created_at = moment(rng)
            room.first_response_at = room.created_at
        room.save()

    def room_delete(self) -> None:
        self.rng.choice(list(ChatRoom.objects.all())).delete()

    def contact_edit(self) -> None:
        rng = self.rng
        model = rng.choice([Contact, ChatContact])
        record = rng.choice(list(model.objects.all()))
        field = rng.choice(["email", "phone", "created_at", "source"])
        if field == "email":
            record.email = rng.choice(["", *self.emails, f"baru{rng.randrange(99)}@contoh.id"])
        elif field == "phone":
            record.phone = rng.choice(["", *self.phones])
        elif field == "created_at":
            record.created_at = moment(rng)
        elif model is Contact:
            record.source = rng.choice(["Website", "Ads", ""])
            record.company = rng.choice([None, *self.companies])
        record.save()

    def contact_delete(self) -> None:
        rng = self.rng
        model = rng.choice([Contact, ChatContact])
        if model.objects.count() > 4:
            rng.choice(list(model.objects.all())).delete()

    def rate_edit(self) -> None:
        """A rate added, changed or deleted (METRICS.md §3): its currency's deals move."""
        rng = self.rng
        rates = list(ExchangeRate.objects.all())
        action = rng.choice(["add", "change", "delete"] if rates else ["add"])
        if action == "add":
            ExchangeRate.objects.update_or_create(
                currency=rng.choice(["USD", "EUR"]),
                date=moment(rng).date(),
                defaults={"rate": Decimal(rng.randrange(10_000, 20_000)) / 7},
            )
        elif action == "change":
            ExchangeRate.objects.filter(pk=rng.choice(rates).pk).update(
                rate=Decimal(rng.randrange(10_000, 20_000)) / 3
            )
        else:
            rng.choice(rates).delete()

    def contact_update_sql(self) -> None:
        """An edit no signal sees (issue 27 item 10): QuerySet.update() of a source."""
        rng = self.rng
        model = rng.choice([Contact, ChatContact])
        record = rng.choice(list(model.objects.all()))
        if model is Contact:
            model.objects.filter(pk=record.pk).update(
                source=rng.choice(["Website", "Ads", "Pameran"]),
                company=rng.choice([None, *self.companies]),
            )
        else:
            model.objects.filter(pk=record.pk).update(
                channel=rng.choice(["WhatsApp", "Instagram", "Telegram"]),
                created_at=moment(rng),
            )

    def stage_or_reason_edit(self) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            reason = rng.choice(self.reasons)
            reason.name = f"Alasan {rng.randrange(10**9)}"  # names are unique
            reason.save()
        else:
            stage = rng.choice(self.stages[3:])  # "Open 2" turns won or lost, and back
            stage.outcome = rng.choice([o for o, _ in PipelineStage.Outcome.choices])
            stage.default_win_probability = rng.choice([0, 70, 100])
            stage.order = rng.randrange(0, 5)
            stage.save()


@pytest.mark.parametrize(
    ("seed", "whole_pass_share"),
    # 1.0: touched days are always recomputed one by one; 0.0: always in one whole pass.
    [(1, rollup.WHOLE_PASS_SHARE), (2, rollup.WHOLE_PASS_SHARE), (3, 1.0), (4, 1.0), (5, 0.0)],
)
def test_incremental_rebuild_writes_what_a_full_one_writes(seed, whole_pass_share, monkeypatch):
    monkeypatch.setattr(rollup, "WHOLE_PASS_SHARE", whole_pass_share)
    incremental_equals_full(World(random.Random(seed)))


@pytest.mark.parametrize(("seed", "parts"), [(6, 2), (7, 3), (8, 5)])
def test_incremental_rebuild_writes_what_a_fanned_out_full_one_writes(seed, parts, settings):
    # Every full rebuild here runs in customer shards (issue 34, insights.fanout), in-process
    # without a broker; the incremental ones follow it and must land on the same rows.
    settings.INSIGHTS_REBUILD_PARTS = parts
    incremental_equals_full(World(random.Random(seed)), fanned_out=parts)


def test_incremental_rebuild_keeps_a_fitted_customer_value_right():
    # Enough repeat buyers for the customer value model to fit, so keeping or refitting it
    # after an incremental run is checked against a full run's fit and scores.
    world = World(random.Random(13), people=80, contacts=60, deals=400, currencies=("IDR",))
    insights_rebuild(trigger="test", full=True)
    assert CustomerValueFit.objects.get().fitted
    incremental_equals_full(world)


def incremental_equals_full(world: World, *, fanned_out: int = 0) -> None:
    first = insights_rebuild(trigger="test", full=True)
    assert first.status == RebuildRun.Status.SUCCEEDED
    assert first.rows.get("fanout_parts", 0) == fanned_out, first.rows
    for _round in range(4):
        world.edit()
        run = insights_rebuild(trigger="test")
        assert run.status == RebuildRun.Status.SUCCEEDED, run.error
        assert run.rows["incremental"] == 1, run.rows
        after_incremental = everything()
        full = insights_rebuild(trigger="test", full=True)
        assert full.rows["incremental"] == 0
        assert full.rows.get("fanout_parts", 0) == fanned_out, full.rows
        after_full = everything()
        for name, rows in after_full.items():
            assert after_incremental[name] == rows, f"{name} differs after round {_round}"


def test_the_triggers_log_every_kind_of_write():
    world_stage = StageFactory(name="Won", outcome="won", default_win_probability=100)
    ChangedRecord.objects.all().delete()
    deal = DealFactory(stage=world_stage)
    item = DealItemFactory(deal=DealFactory(stage=world_stage))
    room = ChatRoomFactory()
    logged = set(ChangedRecord.objects.values_list("kind", "record_id"))
    assert {("deal", deal.pk), ("deal", item.deal_id), ("room", room.pk)} <= logged

    ChangedRecord.objects.all().delete()
    # A bulk UPDATE, as the importer and hand-written SQL do, is seen too.
    Deal.objects.filter(pk=deal.pk).update(amount=Decimal("5.00"))
    ChatRoom.objects.filter(pk=room.pk).delete()
    assert set(ChangedRecord.objects.values_list("kind", "record_id")) == {
        ("deal", deal.pk),
        ("room", room.pk),
    }


def test_a_rebuild_takes_the_log_and_a_failed_one_gives_it_back(monkeypatch):
    insights_rebuild(trigger="test", full=True)
    deal = DealFactory(stage=StageFactory(name="Won", outcome="won", default_win_probability=100))
    assert ChangedRecord.objects.filter(kind="deal", record_id=deal.pk).exists()

    def broken(*args, **kwargs):
        raise RuntimeError("service phase broke")

    monkeypatch.setattr("insights.incremental.service.service_update", broken)
    with pytest.raises(RuntimeError):
        insights_rebuild(trigger="test")
    assert ChangedRecord.objects.filter(kind="deal", record_id=deal.pk).exists()
    monkeypatch.undo()

    run = insights_rebuild(trigger="test")
    assert run.rows["incremental"] == 1 and run.rows["changed_records"] >= 1
    assert not ChangedRecord.objects.exists()
    assert DealFact.objects.filter(deal_id=deal.pk).exists()


def test_nothing_changed_keeps_the_last_figures():
    ContactFactory(email="ani@x.id")
    first = insights_rebuild(trigger="test")
    assert first.status == RebuildRun.Status.SUCCEEDED and first.rows["incremental"] == 0
    cached = FigureCache.objects.count()
    assert cached > 0

    again = insights_rebuild(trigger="test")
    assert again.status == RebuildRun.Status.UNCHANGED
    assert FigureCache.objects.count() == cached  # readers keep the cache of the last run

    ContactFactory(email="budi@x.id")  # identity's own change, no logged record
    changed = insights_rebuild(trigger="test")
    assert changed.status == RebuildRun.Status.SUCCEEDED and changed.rows["incremental"] == 1


def test_customer_value_is_refitted_only_when_buying_days_change(monkeypatch):
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    contact = ContactFactory(email="ani@x.id")
    DealFactory(contact=contact, stage=won, created_at=FIRST, closed_at=FIRST)
    insights_rebuild(trigger="test", full=True)
    calls = []
    real = customer_value_rebuild

    def counted(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr("insights.customer_value.customer_value_rebuild", counted)
    # A chat room and an open deal: no buying day moves, so the model's inputs are the same.
    ChatRoomFactory(chat_contact=ChatContactFactory(email="ani@x.id"), created_at=FIRST)
    open_stage = StageFactory(name="Open", outcome="open", default_win_probability=40)
    DealFactory(contact=contact, stage=open_stage, created_at=FIRST)
    kept = insights_rebuild(trigger="test")
    assert kept.rows["incremental"] == 1 and kept.rows["customer_value_kept"] == 1
    assert calls == []
    # A won deal on another day is a new buying day: refitted.
    DealFactory(contact=contact, stage=won, created_at=FIRST, closed_at=FIRST + timedelta(9))
    refitted = insights_rebuild(trigger="test")
    assert "customer_value_kept" not in refitted.rows and len(calls) == 1


def test_a_deleted_company_recomputes_everything():
    company = CompanyFactory()
    ContactFactory(email="ani@x.id", company=company)
    insights_rebuild(trigger="test", full=True)
    renamed = CompanyFactory()
    renamed.name = "PT Baru"
    renamed.save()
    changes = incremental.changes_take(limit=1000)
    assert incremental.needs_full(changes) == ""
    company.delete()
    changes = incremental.changes_take(limit=1000)
    assert incremental.needs_full(changes) == "a company was deleted"


def test_an_erased_customer_recomputes_everything():
    ContactFactory(email="ani@x.id")
    ContactFactory(email="budi@x.id")
    insights_rebuild(trigger="test", full=True)
    assert incremental.needs_full(incremental.Changes()) == ""
    Customer.objects.order_by("id").first().delete()  # as privacy.erasure does
    assert incremental.needs_full(incremental.Changes()) == (
        "a customer was deleted outside a rebuild (an erasure)"
    )


def test_past_a_share_of_the_customers_a_run_recomputes_everything(monkeypatch):
    # Lowered so a small world crosses it: any changed customer is too many.
    monkeypatch.setattr(incremental, "MIN_CUSTOMERS_FOR_WHOLE_PASS", 0)
    monkeypatch.setattr(incremental, "MAX_CUSTOMERS_SHARE", 0.0)
    world = World(random.Random(21))
    insights_rebuild(trigger="test", full=True)
    world.edit()
    # when
    run = insights_rebuild(trigger="test")
    # then: the families' whole passes ran after identity's incremental pass, and wrote what a
    # full rebuild writes
    assert run.status == RebuildRun.Status.SUCCEEDED, run.error
    assert run.rows["incremental"] == 0
    assert run.rows["changed_customers"] > 0
    after_switch = everything()
    insights_rebuild(trigger="test", full=True)
    assert everything() == after_switch


def test_the_whole_pass_is_chosen_past_the_share_and_the_floor_only(monkeypatch):
    for n in range(10):
        ContactFactory(email=f"orang{n}@contoh.id")
    insights_rebuild(trigger="test", full=True)
    assert Customer.objects.count() == 10
    monkeypatch.setattr(incremental, "MAX_CUSTOMERS_SHARE", 0.5)
    monkeypatch.setattr(incremental, "MIN_CUSTOMERS_FOR_WHOLE_PASS", 0)
    assert incremental.too_many_customers(5) == ""  # exactly the share: followed
    assert incremental.too_many_customers(6) == (
        "6 customers changed, more than 50% of 10: one whole pass is faster than following them"
    )
    monkeypatch.setattr(incremental, "MIN_CUSTOMERS_FOR_WHOLE_PASS", 6)
    assert incremental.too_many_customers(6) == ""  # a small run is always followed


def test_too_many_changes_are_counted_not_listed():
    won = StageFactory(name="Won", outcome="won", default_win_probability=100)
    ChangedRecord.objects.all().delete()
    for _ in range(5):
        DealFactory(stage=won)
    changes = incremental.changes_take(limit=3)
    assert changes.whole_table and changes.rows == 5
    assert not ChangedRecord.objects.exists()


def test_time_alone_turns_a_pending_room_late_as_a_full_rebuild_does():
    """METRICS.md §L: a room with no reply is pending until its target passes at a rebuild's
    now; the incremental rebuild recomputes the pending rooms' days, whatever else changed."""
    from unittest.mock import patch

    ServiceTarget.objects.create(channel="", first_response_s=3600, resolution_s=86400)
    opened = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    ChatRoomFactory(created_at=opened)

    def rebuild_at(moment, *, full=False):
        with patch("insights.rebuild.rebuild_now", return_value=moment):
            return insights_rebuild(trigger="test", full=full)

    rebuild_at(opened + timedelta(minutes=30), full=True)
    fact = ServiceRoomFact.objects.get()
    assert (fact.first_response_status, fact.resolution_status) == (3, 3)  # pending

    ChatRoomFactory(created_at=opened - timedelta(days=40), resolved_at=opened)  # a change
    run = rebuild_at(opened + timedelta(hours=1, seconds=1))
    assert run.rows["incremental"] == 1
    after_incremental = everything()
    assert ServiceDayGroup.objects.filter(dim="channel", first_response_breached=1).exists()
    rebuild_at(opened + timedelta(hours=1, seconds=1), full=True)
    assert everything() == after_incremental


def test_a_changed_target_recomputes_the_service_rollups():
    ServiceTarget.objects.create(channel="", first_response_s=3600)
    room = ChatRoomFactory(
        created_at=datetime(2026, 3, 2, 3, 0, tzinfo=UTC),
        first_response_at=datetime(2026, 3, 2, 3, 30, tzinfo=UTC),
    )
    insights_rebuild(trigger="test", full=True)
    assert ServiceRoomFact.objects.get(room_id=room.pk).first_response_status == 1

    ServiceTarget.objects.filter(channel="").update(first_response_s=600)
    run = insights_rebuild(trigger="test")

    assert run.status == RebuildRun.Status.SUCCEEDED
    assert ServiceRoomFact.objects.get(room_id=room.pk).first_response_status == 2
