import io
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from chats.models import ChatContact, ChatRoom
from customers.models import Company, Contact, IdentityChange
from deals.models import Deal, DealItem, LostReason, PipelineStage, Product
from imports.importer import import_records
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    CustomerFactory,
    DealFactory,
    DealItemFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def run(kind: str, path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_records", kind, str(path), *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def csv_file(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_companies_good_rows_kept_bad_rows_reported_by_line_and_column(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "external_id,name,industry,created_at,extra\n"
        "co-1,PT Maju Jaya,Retail,2026-01-15T10:00:00,x\n"
        "co-2,,Retail,2026-01-15,x\n"
        "co-3,PT Tiga,,yesterday,x\n"
        "co-4,PT Empat,,,x\n",
    )

    # when
    code, out, err = run("companies", path)

    # then
    assert code == 1
    assert out.strip().splitlines()[-1] == "created 2, updated 0, unchanged 0, rejected 2"
    assert "line 3: name: required" in err
    assert "line 4: created_at: not an ISO 8601 timestamp: 'yesterday'" in err
    assert sorted(Company.objects.values_list("external_id", flat=True)) == ["co-1", "co-4"]
    rejected = (tmp_path / "data.csv.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert rejected == [
        "external_id,name,industry,created_at,extra,reason",
        "co-2,,Retail,2026-01-15,x,name: required",
        "co-3,PT Tiga,,yesterday,x,created_at: not an ISO 8601 timestamp: 'yesterday' "
        "(write YYYY-MM-DD or YYYY-MM-DD HH:MM; e.g. 2026-12-31 or 2026-12-31 14:30"
        " or 2026-12-31T14:30:00+07:00)",
    ]


def test_naive_timestamp_is_jakarta_time_and_offsets_are_kept(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "external_id,name,created_at\n"
        "co-1,A,2026-01-15T10:00:00\n"
        "co-2,B,2026-01-15T10:00:00+00:00\n"
        "co-3,C,2026-01-15\n",
    )

    # when
    code, _, _ = run("companies", path)

    # then
    assert code == 0
    stamps = dict(Company.objects.values_list("external_id", "created_at"))
    assert stamps == {
        "co-1": datetime(2026, 1, 15, 3, 0, tzinfo=UTC),
        "co-2": datetime(2026, 1, 15, 10, 0, tzinfo=UTC),
        "co-3": datetime(2026, 1, 14, 17, 0, tzinfo=UTC),
    }


def test_missing_required_column_refuses_the_file_with_exit_2(tmp_path):
    # given
    path = csv_file(tmp_path, "external_id,industry\nco-1,Retail\n")

    # when
    code, out, err = run("companies", path)

    # then
    assert code == 2
    assert "name" in err and "missing required column" in err
    assert Company.objects.count() == 0


def test_reload_is_unchanged_and_an_edit_is_updated(tmp_path):
    # given
    text = "external_id,name,industry\nco-1,PT A,Retail\nco-2,PT B,\n"
    path = csv_file(tmp_path, text)
    run("companies", path)

    # when
    first = run("companies", path)
    csv_file(tmp_path, text.replace("PT B", "PT B Baru"))
    second = run("companies", path)

    # then
    assert first == (0, "created 0, updated 0, unchanged 2, rejected 0\n", "")
    assert second[1].strip() == "created 0, updated 1, unchanged 1, rejected 0"
    assert Company.objects.get(external_id="co-2").name == "PT B Baru"


def test_contacts_keys_owner_company_and_unparseable_phone(tmp_path):
    # given
    UserFactory(username="rina")
    CompanyFactory(external_id="co-1")
    path = csv_file(
        tmp_path,
        "external_id,first_name,email,phone,company_external_id,owner,source,created_at\n"
        "c-1,Ani, Ani.W@Gmail.COM ,0812-3456-7890,co-1,rina,Referral,2026-01-15T10:00:00\n"
        "c-2,Budi,not-an-email,12,,,,2026-01-15T10:00:00\n"
        "c-3,Citra,,,co-9,,,2026-01-15T10:00:00\n"
        "c-4,Dewi,,,,joko,,2026-01-15T10:00:00\n"
        "c-5,Eko,,,,,,\n",
    )

    # when
    code, out, err = run("contacts", path)

    # then
    assert code == 1
    assert out.strip() == "created 2, updated 0, unchanged 0, rejected 3"
    assert err.splitlines()[:3] == [
        "line 4: company_external_id: no company with external_id 'co-9' (load companies first)",
        "line 5: owner: unknown user 'joko'",
        "line 6: created_at: required",
    ]
    ani = Contact.objects.get(external_id="c-1")
    assert (ani.email, ani.email_key, ani.phone_key) == (
        "Ani.W@Gmail.COM",
        "ani.w@gmail.com",
        "+6281234567890",
    )
    assert (ani.company.external_id, ani.owner.username, ani.source) == ("co-1", "rina", "Referral")
    budi = Contact.objects.get(external_id="c-2")
    assert (budi.email, budi.phone, budi.email_key, budi.phone_key) == (
        "not-an-email",
        "12",
        "",
        "",
    )


def test_chat_contacts_and_rooms_with_csat_range(tmp_path):
    # given
    contacts = csv_file(
        tmp_path,
        "external_id,channel,name,phone,created_at\n"
        "cc-1,WhatsApp,Ani,+62 812 3456 7890,2026-01-15T10:00:00\n"
        "cc-2,,Budi,,2026-01-15T10:00:00\n",
        "chat_contacts.csv",
    )
    rooms = csv_file(
        tmp_path,
        "external_id,chat_contact_external_id,created_at,resolved_at,agent,csat_score\n"
        "r-1,cc-1,2026-01-15T10:00:00,2026-01-15T11:00:00,Sari,5\n"
        "r-2,cc-1,2026-01-16T10:00:00,,,\n"
        "r-3,cc-1,2026-01-16T10:00:00,,,6\n"
        "r-4,cc-1,2026-01-16T10:00:00,,,4.5\n"
        "r-5,cc-2,2026-01-16T10:00:00,,,3\n",
        "rooms.csv",
    )

    # when
    contacts_result = run("chat_contacts", contacts)
    rooms_result = run("chat_rooms", rooms)

    # then
    assert contacts_result[0] == 1 and "line 3: channel: required" in contacts_result[2]
    assert ChatContact.objects.get().phone_key == "+6281234567890"
    assert rooms_result[0] == 1
    assert rooms_result[2].splitlines()[:3] == [
        "line 4: csat_score: must be between 1 and 5",
        "line 5: csat_score: not a whole number: '4.5'",
        "line 6: chat_contact_external_id: no chat contact with external_id 'cc-2'"
        " (load chat_contacts first)",
    ]
    assert dict(ChatRoom.objects.values_list("external_id", "csat_score")) == {
        "r-1": 5,
        "r-2": None,
    }


def test_products_negative_or_bad_price_rejected(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        "external_id,name,sku,price\n"
        "p-1,Kopi Arabika,KA-1,125000\n"
        "p-2,Teh,,-1\n"
        "p-3,Gula,,12.345\n"
        'p-4,Susu,,"1.000,00"\n'
        "p-5,Air,,\n",
    )

    # when
    code, out, err = run("products", path)

    # then
    assert code == 1
    assert err.splitlines()[:3] == [
        "line 3: price: must not be negative",
        "line 4: price: more than 2 decimal places",
        "line 5: price: not a number: '1.000,00'",
    ]
    assert dict(Product.objects.values_list("external_id", "price")) == {
        "p-1": Decimal("125000.00"),
        "p-5": None,
    }


DEALS_HEADER = (
    "external_id,name,contact_external_id,stage,outcome,win_probability,amount,currency,"
    "created_at,closed_at,lost_reason,owner\n"
)


def test_deals_stage_outcome_rules_and_lost_reason_catalogue(tmp_path):
    # given
    ContactFactory(external_id="c-1")
    LostReason.objects.create(name="Harga terlalu tinggi")
    path = csv_file(
        tmp_path,
        DEALS_HEADER + "d-1,Deal 1,c-1,Won,won,,1500000,,2026-01-10T09:00:00,2026-01-12,,\n"
        "d-2,Deal 2,c-1,Lost,,,200000,IDR,2026-01-10,2026-01-11,HARGA TERLALU TINGGI,\n"
        "d-3,Deal 3,,Lost,,,300000,,2026-01-10,,Pilih kompetitor,\n"
        "d-4,Deal 4,,Lost,,,300000,,2026-01-10,,pilih KOMPETITOR,\n"
        "d-5,Deal 5,,Demo,won,,1,,2026-01-10,,,\n"
        "d-6,Deal 6,,Demo,lost,,1,,2026-01-10,,,\n"
        "d-7,Deal 7,,Proposal,won,,1,,2026-01-10,,,\n"
        "d-8,Deal 8,,Proposal,maybe,,1,,2026-01-10,,,\n"
        "d-9,Deal 9,,Proposal,,101,1,,2026-01-10,,,\n"
        "d-10,Deal 10,,Proposal,,,-5,,2026-01-10,,,\n"
        "d-11,Deal 11,c-404,Proposal,,,5,,2026-01-10,,,\n"
        "d-12,Deal 12,,,,,5,,2026-01-10,,,\n",
    )

    # when
    code, out, err = run("deals", path)

    # then
    assert code == 1
    assert out.strip() == "created 5, updated 0, unchanged 0, rejected 7"
    assert err.splitlines()[:7] == [
        "line 7: outcome: 'lost' contradicts stage 'Demo', which is 'won'",
        "line 8: outcome: 'won' contradicts stage 'Proposal', which is 'open'",
        "line 9: outcome: must be open, won or lost, not 'maybe'",
        "line 10: win_probability: must be between 0 and 100",
        "line 11: amount: must not be negative",
        "line 12: contact_external_id: no contact with external_id 'c-404' (load contacts first)",
        "line 13: stage: required",
    ]
    assert PipelineStage.objects.get(name="Demo").outcome == "won"
    assert sorted(LostReason.objects.values_list("name", flat=True)) == [
        "Harga terlalu tinggi",
        "Pilih kompetitor",
    ]
    deals = {d.external_id: d for d in Deal.objects.select_related("lost_reason", "stage")}
    assert deals["d-2"].lost_reason.name == "Harga terlalu tinggi"
    assert deals["d-3"].lost_reason_id == deals["d-4"].lost_reason_id
    assert (deals["d-1"].amount, deals["d-1"].currency, deals["d-1"].stage.name) == (
        Decimal("1500000.00"),
        "IDR",
        "Won",
    )
    assert deals["d-1"].closed_at == datetime(2026, 1, 11, 17, 0, tzinfo=UTC)


def test_atomic_loads_nothing_when_a_row_is_bad(tmp_path):
    # given
    path = csv_file(
        tmp_path,
        DEALS_HEADER + "d-1,Deal 1,,NewStage,won,,1,,2026-01-10,,,\n"
        "d-2,Deal 2,,Lost,,,1,,2026-01-10,,Baru,\n"
        "d-3,Deal 3,,Proposal,,,x,,2026-01-10,,,\n",
    )

    # when
    code, out, err = run("deals", path, "--atomic")

    # then
    assert code == 1
    assert out.strip() == "created 0, updated 0, unchanged 0, rejected 1"
    assert "line 4: amount: not a number: 'x'" in err
    assert Deal.objects.count() == 0
    assert not PipelineStage.objects.filter(name="NewStage").exists()
    assert not LostReason.objects.exists()


def test_atomic_with_good_file_loads_everything(tmp_path):
    # given
    path = csv_file(tmp_path, DEALS_HEADER + "d-1,Deal 1,,Proposal,,,1,,2026-01-10,,,\n")

    # when
    code, out, _ = run("deals", path, "--atomic")

    # then
    assert (code, out.strip()) == (0, "created 1, updated 0, unchanged 0, rejected 0")
    assert Deal.objects.count() == 1


def test_deal_items_replace_the_deals_items_and_reload_is_unchanged(tmp_path):
    # given
    kopi, teh = ProductFactory(external_id="kopi"), ProductFactory(external_id="teh")
    deal = DealFactory(external_id="d-1")
    other = DealFactory(external_id="d-2")
    DealItemFactory(deal=deal, product=teh, quantity=Decimal("9"))
    DealItemFactory(deal=other, product=teh, quantity=Decimal("1"))
    path = csv_file(
        tmp_path,
        "deal_external_id,product_external_id,quantity,unit_price\n"
        "d-1,kopi,2,50000\n"
        "d-1,kopi,2,50000\n"
        "d-1,teh,1.5,20000\n"
        "d-1,gula,1,1\n"
        "d-9,kopi,1,1\n"
        "d-1,kopi,-1,1\n",
    )

    # when
    first = run("deal_items", path)
    again = run("deal_items", path)

    # then
    assert first[0] == 1
    assert first[1].strip() == "created 2, updated 1, unchanged 0, rejected 3"
    assert first[2].splitlines()[:3] == [
        "line 5: product_external_id: no product with external_id 'gula' (load products first)",
        "line 6: deal_external_id: no deal with external_id 'd-9' (load deals first)",
        "line 7: quantity: must not be negative",
    ]
    assert again[1].strip() == "created 0, updated 0, unchanged 3, rejected 3"
    items = sorted(deal.items.values_list("product_id", "quantity", "unit_price"))
    assert items == [
        (kopi.pk, Decimal("2.00"), Decimal("50000.00")),
        (kopi.pk, Decimal("2.00"), Decimal("50000.00")),
        (teh.pk, Decimal("1.50"), Decimal("20000.00")),
    ]
    assert other.items.count() == 1


def test_deal_items_of_one_deal_spread_over_batches_all_become_its_items():
    # given
    product = ProductFactory(external_id="kopi")
    deal = DealFactory(external_id="d-1")
    DealFactory(external_id="d-2")
    text = (
        "deal_external_id,product_external_id,quantity,unit_price\n"
        "d-1,kopi,1,10\nd-2,kopi,1,10\nd-1,kopi,2,10\nd-1,kopi,3,10\n"
    )

    # when
    first = import_records(kind="deal_items", stream=io.StringIO(text), batch_size=2)
    again = import_records(kind="deal_items", stream=io.StringIO(text), batch_size=2)

    # then
    assert (first.created, again.unchanged, again.created, again.updated) == (4, 4, 0, 0)
    assert sorted(deal.items.values_list("quantity", flat=True)) == [1, 2, 3]
    assert DealItem.objects.filter(product=product).count() == 4


def test_same_external_id_twice_in_a_file_last_row_wins(tmp_path):
    # given
    path = csv_file(tmp_path, "external_id,name\nco-1,First\nco-1,Second\n")

    # when
    code, out, _ = run("companies", path)

    # then
    assert (code, out.strip()) == (0, "created 1, updated 1, unchanged 0, rejected 0")
    assert Company.objects.get().name == "Second"


def test_multiline_cell_line_numbers_are_physical_lines(tmp_path):
    # given
    path = csv_file(tmp_path, 'external_id,name,industry\nco-1,"PT\nDua Baris",x\nco-2,,y\n')

    # when
    code, _, err = run("companies", path)

    # then
    assert code == 1
    assert err.splitlines()[0] == "line 4: name: required"


def test_standard_input_writes_rejected_csv_in_current_folder(tmp_path, monkeypatch):
    # given
    monkeypatch.chdir(tmp_path)
    data = b"\xef\xbb\xbfexternal_id,name\nco-1,PT A\nco-2,\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    # when
    code, out, err = run("companies", "-")

    # then
    assert code == 1
    assert out.strip() == "created 1, updated 0, unchanged 0, rejected 1"
    assert "line 3: name: required" in err
    assert (tmp_path / "rejected.csv").read_text().splitlines() == [
        "external_id,name,reason",
        "co-2,,name: required",
    ]


def test_clean_reload_removes_a_stale_rejected_file(tmp_path):
    # given
    path = csv_file(tmp_path, "external_id,name\nco-1,PT A\n")
    stale = tmp_path / "data.csv.rejected.csv"
    stale.write_text("old")

    # when
    code, _, _ = run("companies", path)

    # then
    assert code == 0
    assert not stale.exists()


def test_loading_is_batched_not_a_query_per_row(django_assert_max_num_queries):
    # given
    CompanyFactory(external_id="co-1")
    rows = "".join(f"c-{n},Ani,,0812{n:07d},co-1,2026-01-15\n" for n in range(300))
    text = "external_id,first_name,email,phone,company_external_id,created_at\n" + rows

    # when
    with django_assert_max_num_queries(12):
        result = import_records(kind="contacts", stream=io.StringIO(text))

    # then
    assert result.created == 300
    assert Contact.objects.filter(company__external_id="co-1").count() == 300


def test_updating_a_resolved_contact_logs_an_identity_change(tmp_path):
    # given
    customer = CustomerFactory()
    ContactFactory(external_id="c-1", source="Website", customer=customer)
    ContactFactory(external_id="c-2", source="Website")
    path = csv_file(
        tmp_path,
        "external_id,source,created_at\n"
        "c-1,Referral,2026-01-15T10:00:00\n"
        "c-2,Referral,2026-01-15T10:00:00\n",
    )

    # when
    code, out, _ = run("contacts", path)

    # then
    assert (code, out.strip()) == (0, "created 0, updated 2, unchanged 0, rejected 0")
    assert list(IdentityChange.objects.values_list("customer_id", flat=True)) == [customer.pk]
    assert Contact.objects.get(external_id="c-1").customer == customer


def test_a_column_missing_from_the_file_leaves_stored_values_alone(tmp_path):
    # given
    rina = UserFactory(username="rina")
    ContactFactory(external_id="c-1", owner=rina, source="Referral", phone="0812-1111-2222")
    path = csv_file(tmp_path, "external_id,first_name,created_at\nc-1,Ani,2026-01-15T10:00:00\n")

    # when
    code, out, _ = run("contacts", path)

    # then
    assert code == 0
    contact = Contact.objects.get(external_id="c-1")
    assert (contact.first_name, contact.owner, contact.source) == ("Ani", rina, "Referral")
    assert (contact.phone, contact.phone_key) == ("0812-1111-2222", "+6281211112222")
