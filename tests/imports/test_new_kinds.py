"""The kinds and columns CONTRACT §1 gained this round: each happy path, its upsert (a second
load of the same file changes nothing) and every rejection with its line, column and reason."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from chats.models import Holiday, ServiceTarget, SurveyResponse
from deals.models import Deal, DealChange, ExchangeRate, PipelineStage, SalesTarget
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    DealFactory,
    StageFactory,
    UserFactory,
)
from tests.imports.test_import_records import csv_file, run

pytestmark = pytest.mark.django_db

JAKARTA = 7  # hours ahead of UTC


def load_twice(kind: str, path) -> tuple[str, str]:
    """Load the file twice: the second load must report every good row unchanged."""
    code, out, err = run(kind, path)
    again_code, again, _ = run(kind, path)
    assert again_code == code
    return out.strip().splitlines()[-1], again.strip().splitlines()[-1]


# --- stages ------------------------------------------------------------------------------------


def test_stages_created_with_defaults_then_unchanged(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "name,outcome,win_probability,order\nProspek,open,,1\nMenang,WON,,9\nNegosiasi,open,60,\n",
    )

    # when
    first, second = load_twice("stages", path)

    # then
    assert first == "created 3, updated 0, unchanged 0, rejected 0"
    assert second == "created 0, updated 0, unchanged 3, rejected 0"
    stages = {
        s.name: (s.outcome, s.default_win_probability, s.order)
        for s in PipelineStage.objects.filter(name__in=["Prospek", "Menang", "Negosiasi"])
    }
    assert stages == {
        "Prospek": ("open", 0, 1),
        "Menang": ("won", 100, 9),
        "Negosiasi": ("open", 60, 0),
    }


def test_stages_upsert_by_name_in_any_case_keeps_the_stored_spelling(tmp_path):
    # given
    StageFactory(name="Usulan", outcome="open", default_win_probability=20, order=3)
    path = csv_file(tmp_path, "name,outcome,win_probability\nUSULAN,open,40\n")

    # when
    code, out, _ = run("stages", path)

    # then: the absent order column leaves the stored order alone
    assert code == 0
    assert out.strip().endswith("created 0, updated 1, unchanged 0, rejected 0")
    stage = PipelineStage.objects.get(name__iexact="usulan")
    assert (stage.name, stage.default_win_probability, stage.order) == ("Usulan", 40, 3)


def test_stages_rejections(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "name,outcome,win_probability,order\n,open,,\nA,maybe,,\nB,open,101,\nC,won,,-1\nD,,,\n",
    )

    before = PipelineStage.objects.count()

    # when
    code, out, err = run("stages", path)

    # then
    assert code == 1
    assert out.strip().endswith("created 0, updated 0, unchanged 0, rejected 5")
    assert "line 2: name: required" in err
    assert "line 3: outcome: must be open, won or lost, not 'maybe'" in err
    assert "line 4: win_probability: must be between 0 and 100" in err
    assert "line 5: order: must be between 0 and 32767" in err
    assert "line 6: outcome: required" in err
    assert PipelineStage.objects.count() == before


def test_deals_find_a_stage_loaded_by_the_stages_kind(tmp_path):
    # given
    run("stages", csv_file(tmp_path, "name,outcome\nClosed Won,won\n", "stages.csv"))
    deals = csv_file(
        tmp_path,
        "external_id,stage,amount,created_at,outcome\nd-1,closed won,5,2026-01-01,won\n",
    )

    # when
    code, _, _ = run("deals", deals)

    # then
    assert code == 0
    assert Deal.objects.get().stage.name == "Closed Won"


# --- exchange_rates ------------------------------------------------------------------------------


def test_exchange_rates_upper_cased_and_upserted_by_currency_and_date(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "currency,date,rate\nusd,2026-01-01,16250.5\nSGD,2026-01-01,12100\nUSD,2026-02-01,16300\n",
    )

    # when
    first, second = load_twice("exchange_rates", path)
    run("exchange_rates", csv_file(tmp_path, "currency,date,rate\nUsd,2026-01-01,16000\n", "b.csv"))

    # then
    assert first == "created 3, updated 0, unchanged 0, rejected 0"
    assert second == "created 0, updated 0, unchanged 3, rejected 0"
    assert ExchangeRate.objects.get(currency="USD", date=date(2026, 1, 1)).rate == 16000
    assert ExchangeRate.objects.count() == 3


def test_exchange_rate_rejections(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "currency,date,rate\n"
        "US,2026-01-01,1\n"
        "USD,01/02/2026,1\n"
        "USD,2026-01-03,0\n"
        "USD,2026-01-04,-2\n"
        "USD,2026-01-05,1e3\n"
        "USD,2026-02-30,1\n"
        ",2026-01-06,1\n",
    )

    # when
    code, out, err = run("exchange_rates", path)

    # then
    assert code == 1
    assert out.strip().endswith("rejected 7")
    assert "line 2: currency: not a three-letter currency code: 'US'" in err
    assert "line 3: date: not a date: '01/02/2026' (write YYYY-MM-DD, e.g. 2026-12-31)" in err
    assert "line 4: rate: must be more than 0" in err
    assert "line 5: rate: must not be negative" in err
    assert "line 6: rate: not a number: '1e3'" in err
    assert "line 7: date: not a date: '2026-02-30'" in err
    assert "line 8: currency: required" in err
    assert not ExchangeRate.objects.exists()


# --- sales_targets -----------------------------------------------------------------------------


def test_sales_targets_per_owner_and_team_upserted_by_owner_and_month(tmp_path):
    # given
    UserFactory(username="rina")
    path = csv_file(
        tmp_path,
        "owner,month,amount\nrina,2026-01,1000000\n,2026-01,5000000\nrina,2026-02,0\n",
    )

    # when
    first, second = load_twice("sales_targets", path)
    run("sales_targets", csv_file(tmp_path, "owner,month,amount\n,2026-01,6000000\n", "b.csv"))

    # then
    assert first == "created 3, updated 0, unchanged 0, rejected 0"
    assert second == "created 0, updated 0, unchanged 3, rejected 0"
    targets = {
        (t.owner.username if t.owner else None, t.month): t.amount
        for t in SalesTarget.objects.all()
    }
    assert targets == {
        ("rina", date(2026, 1, 1)): Decimal("1000000"),
        (None, date(2026, 1, 1)): Decimal("6000000"),
        ("rina", date(2026, 2, 1)): Decimal("0"),
    }


def test_sales_target_rejections(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "owner,month,amount\n"
        "nobody,2026-01,1\n"
        ",2026-13,1\n"
        ",2026-01-01,1\n"
        ",2026-02,-5\n"
        ",2026-03,\n"
        ",,1\n",
    )

    # when
    code, out, err = run("sales_targets", path)

    # then
    assert code == 1
    assert out.strip().endswith("rejected 6")
    assert "line 2: owner: unknown user 'nobody'" in err
    assert "line 3: month: not a month: '2026-13' (write YYYY-MM, e.g. 2026-12)" in err
    assert "line 4: month: not a month: '2026-01-01'" in err
    assert "line 5: amount: must not be negative" in err
    assert "line 6: amount: required" in err
    assert "line 7: month: required" in err
    assert not SalesTarget.objects.exists()


# --- service_targets ---------------------------------------------------------------------------


def test_service_targets_upserted_by_channel_blank_is_the_default(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "channel,first_response_s,resolution_s,clock\n,300,86400,calendar\nwhatsapp,60,,Business\n",
    )

    # when
    first, second = load_twice("service_targets", path)
    run(
        "service_targets",
        csv_file(tmp_path, "channel,first_response_s,clock\nwhatsapp,120,business\n", "b.csv"),
    )

    # then
    assert first == "created 2, updated 0, unchanged 0, rejected 0"
    assert second == "created 0, updated 0, unchanged 2, rejected 0"
    targets = {
        t.channel: (t.first_response_s, t.resolution_s, t.clock)
        for t in ServiceTarget.objects.all()
    }
    assert targets == {"": (300, 86400, "calendar"), "whatsapp": (120, None, "business")}


def test_service_target_rejections(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "channel,first_response_s,resolution_s,clock\n"
        "a,1.5,,calendar\n"
        "b,-1,,calendar\n"
        "c,,abc,calendar\n"
        "d,,,sometimes\n"
        "e,,,\n",
    )

    # when
    code, out, err = run("service_targets", path)

    # then
    assert code == 1
    assert out.strip().endswith("rejected 5")
    assert "line 2: first_response_s: not a whole number: '1.5'" in err
    assert "line 3: first_response_s: must be between 0 and 2147483647" in err
    assert "line 4: resolution_s: not a whole number: 'abc'" in err
    assert "line 5: clock: must be calendar or business, not 'sometimes'" in err
    assert "line 6: clock: required" in err
    assert not ServiceTarget.objects.exists()


# --- holidays ----------------------------------------------------------------------------------


def test_holidays_upserted_by_date(tmp_path):
    # given
    path = csv_file(tmp_path, "date,name\n2026-01-01,Tahun Baru\n2026-03-20,Idul Fitri\n")

    # when
    first, second = load_twice("holidays", path)
    run("holidays", csv_file(tmp_path, "date,name\n2026-03-20,Idul Fitri 1447 H\n", "b.csv"))

    # then
    assert first == "created 2, updated 0, unchanged 0, rejected 0"
    assert second == "created 0, updated 0, unchanged 2, rejected 0"
    assert dict(Holiday.objects.values_list("date", "name")) == {
        date(2026, 1, 1): "Tahun Baru",
        date(2026, 3, 20): "Idul Fitri 1447 H",
    }


def test_holiday_rejections(tmp_path):
    # given
    path = csv_file(tmp_path, "date,name\n,Nothing\n2026-1-1,Short\n1800-01-01,Old\n")

    # when
    code, out, err = run("holidays", path)

    # then
    assert code == 1
    assert out.strip().endswith("rejected 3")
    assert "line 2: date: required" in err
    assert "line 3: date: not a date: '2026-1-1'" in err
    assert "line 4: date: '1800-01-01' is outside 1900-01-01 to 2100-12-31" in err


def test_a_file_of_a_new_kind_without_its_required_column_is_refused(tmp_path):
    code, _, err = run("holidays", csv_file(tmp_path, "name\nx\n"))

    assert code == 2
    assert "missing required column(s): date" in err


# --- deal_changes ------------------------------------------------------------------------------


def test_deal_changes_blank_keeps_the_previous_value_and_the_deal_is_untouched(tmp_path):
    # given
    deal = DealFactory(external_id="d-1", amount=Decimal("900"), currency="IDR")
    DealChange.objects.filter(deal=deal).delete()  # only imported history below
    path = csv_file(
        tmp_path,
        "deal_external_id,changed_at,stage,win_probability,amount,currency,expected_close_at\n"
        # Out of order on purpose: history is filled by time, not by file line.
        "d-1,2026-01-10T09:00:00,Negosiasi,,,,\n"
        "d-1,2026-01-01T09:00:00,Prospek,10,500,idr,2026-02-01\n"
        "d-1,2026-01-20T09:00:00,,80,700,,2026-03-01T12:00:00+00:00\n",
    )

    # when
    first, second = load_twice("deal_changes", path)

    # then
    assert first == "created 3, updated 0, unchanged 0, rejected 0"
    assert second == "created 0, updated 0, unchanged 3, rejected 0"
    rows = list(
        DealChange.objects.filter(deal=deal)
        .order_by("changed_at")
        .values_list(
            "changed_at",
            "stage_name",
            "win_probability",
            "amount",
            "currency",
            "expected_close_at",
            "source",
        )
    )
    feb_1_local = datetime(2026, 1, 31, 24 - JAKARTA, tzinfo=UTC)
    assert rows == [
        (
            datetime(2026, 1, 1, 9 - JAKARTA, tzinfo=UTC),
            "Prospek",
            10,
            Decimal("500"),
            "IDR",
            feb_1_local,
            "imported",
        ),
        (
            datetime(2026, 1, 10, 9 - JAKARTA, tzinfo=UTC),
            "Negosiasi",
            10,
            Decimal("500"),
            "IDR",
            feb_1_local,
            "imported",
        ),
        (
            datetime(2026, 1, 20, 9 - JAKARTA, tzinfo=UTC),
            "Negosiasi",
            80,
            Decimal("700"),
            "IDR",
            datetime(2026, 3, 1, 12, tzinfo=UTC),
            "imported",
        ),
    ]
    deal.refresh_from_db()
    assert (deal.amount, deal.currency) == (Decimal("900"), "IDR")


def test_deal_change_first_row_with_blanks_has_no_value_and_a_reload_updates(tmp_path):
    # given
    deal = DealFactory(external_id="d-1")
    DealChange.objects.filter(deal=deal).delete()
    header = "deal_external_id,changed_at,stage,amount\n"
    run("deal_changes", csv_file(tmp_path, header + "d-1,2026-01-01,,\n", "a.csv"))

    # when
    code, out, _ = run("deal_changes", csv_file(tmp_path, header + "d-1,2026-01-01,Won,5\n"))

    # then
    assert code == 0
    assert out.strip().endswith("created 0, updated 1, unchanged 0, rejected 0")
    change = DealChange.objects.get(deal=deal)
    assert (change.stage_name, change.amount, change.win_probability) == ("Won", 5, None)


def test_deal_change_rejections(tmp_path):
    # given
    DealFactory(external_id="d-1")
    path = csv_file(
        tmp_path,
        "deal_external_id,changed_at,stage,win_probability,amount,currency,expected_close_at\n"
        "nope,2026-01-01,,,,,\n"
        "d-1,,,,,,\n"
        "d-1,2026-01-02,,150,,,\n"
        "d-1,2026-01-03,,,-1,,\n"
        "d-1,2026-01-04,,,,RP,\n"
        "d-1,2026-01-05,,,,,31/12/2026\n"
        ",2026-01-06,,,,,\n",
    )

    # when
    code, out, err = run("deal_changes", path)

    # then
    assert code == 1
    assert out.strip().endswith("rejected 7")
    assert "line 2: deal_external_id: no deal with external_id 'nope' (load deals first)" in err
    assert "line 3: changed_at: required" in err
    assert "line 4: win_probability: must be between 0 and 100" in err
    assert "line 5: amount: must not be negative" in err
    assert "line 6: currency: not a three-letter currency code: 'RP'" in err
    assert "line 7: expected_close_at: not an ISO 8601 timestamp: '31/12/2026'" in err
    assert "line 8: deal_external_id: required" in err
    assert not DealChange.objects.filter(source="imported").exists()


# --- deals: expected_close_at and currency -------------------------------------------------------


def test_deal_expected_close_and_currency(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "external_id,stage,amount,created_at,currency,expected_close_at\n"
        "d-1,Open,5,2026-01-01,usd,2026-03-31\n"
        "d-2,Open,5,2026-01-01,,2026-03-31T10:00:00+00:00\n"
        "d-3,Open,5,2026-01-01,,\n",
    )

    # when
    first, second = load_twice("deals", path)

    # then
    assert first == "created 3, updated 0, unchanged 0, rejected 0"
    assert second == "created 0, updated 0, unchanged 3, rejected 0"
    deals = {
        d.external_id: (d.currency, d.expected_close_at)
        for d in Deal.objects.order_by("external_id")
    }
    assert deals == {
        "d-1": ("USD", datetime(2026, 3, 30, 24 - JAKARTA, tzinfo=UTC)),
        "d-2": ("IDR", datetime(2026, 3, 31, 10, tzinfo=UTC)),
        "d-3": ("IDR", None),
    }


def test_deal_currency_and_expected_close_rejections(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "external_id,stage,amount,created_at,currency,expected_close_at\n"
        "d-1,Open,5,2026-01-01,Rp,\n"
        "d-2,Open,5,2026-01-01,US$,\n"
        "d-3,Open,5,2026-01-01,,soon\n"
        "d-4,Open,5,2026-01-01,,2200-01-01\n",
    )

    # when
    code, out, err = run("deals", path)

    # then
    assert code == 1
    assert out.strip().endswith("rejected 4")
    assert "line 2: currency: not a three-letter currency code: 'Rp'" in err
    assert "line 3: currency: not a three-letter currency code: 'US$'" in err
    assert "line 4: expected_close_at: not an ISO 8601 timestamp: 'soon'" in err
    assert "line 5: expected_close_at: '2200-01-01' is outside 1900-01-01 to 2100-12-31" in err
    assert not Deal.objects.exists()


# --- survey_responses.chat_room_external_id ------------------------------------------------------


def test_survey_response_names_the_room_it_rates(tmp_path):
    # given
    chat_contact = ChatContactFactory(external_id="cc-1")
    room = ChatRoomFactory(external_id="room-1", chat_contact=chat_contact)
    path = csv_file(
        tmp_path,
        "external_id,kind,score,created_at,chat_contact_external_id,chat_room_external_id\n"
        "s-1,nps,9,2026-01-01,cc-1,room-1\n"
        "s-2,nps,9,2026-01-01,cc-1,\n"
        "s-3,nps,9,2026-01-01,cc-1,room-404\n",
    )

    # when
    code, out, err = run("survey_responses", path)
    _, again, _ = run("survey_responses", path)

    # then
    assert code == 1
    assert out.strip().endswith("created 2, updated 0, unchanged 0, rejected 1")
    assert again.strip().endswith("created 0, updated 0, unchanged 2, rejected 1")
    assert (
        "line 4: chat_room_external_id: no chat room with external_id 'room-404' "
        "(load chat_rooms first)" in err
    )
    rooms = dict(SurveyResponse.objects.values_list("external_id", "chat_room_id"))
    assert rooms == {"s-1": room.pk, "s-2": None}
