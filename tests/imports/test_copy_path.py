"""Issue 33: the COPY path (PostgreSQL) reports and stores exactly what the portable path does.

Each file below holds every rule of CONTRACT §1 for its kind: good rows in the common forms
(which the SQL accepts), good rows in rarer forms (which it leaves to the portable path), every
rejection, the same key twice, references found and not found, blank rows, updates and
unchanged rows. The same file is loaded twice through each path, and the two reports (counts,
then every rejected row with its line, reason and cells) and the stored rows are compared.
"""

import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.forms.models import model_to_dict

from accounts.roles import SALES_REP
from chats.models import ChatRoom
from customers.models import Contact, IdentityChange
from deals.models import Deal, DealItem, LostReason, PipelineStage
from imports import fast
from imports.importer import import_records
from imports.scoping import RowRights
from tests.factories import (
    ChatContactFactory,
    ChatRoomFactory,
    CompanyFactory,
    ContactFactory,
    CustomerFactory,
    DealFactory,
    DealItemFactory,
    LostReasonFactory,
    ProductFactory,
    StageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CONTACTS = (
    "external_id,first_name,last_name,email,phone,company_external_id,source,owner,country,"
    "city,created_at,extra\n"
    "c-1,Ani,Wijaya,ANI@Contoh.ID,0812-3456-7890,co-1,Ads,rina,id,Jakarta,2026-01-05,x\n"
    "c-2,Budi,,budi@contoh.id,+62 812 1111 2222,,,,,,2026-01-05T10:00:00,\n"
    "c-3,Citra,,,,,,,,,2026-01-05 10:00,\n"
    "c-4,Dewi,,,,,,,,,2026-01-05T10:00:00+00:00,\n"
    "c-5,Eko,,,,,,,,,2026-01-05T10:00:00Z,\n"
    "c-6,Fajar,,,,,,,,,2026-01-05T10:00:00.123456,\n"
    # rarer forms the portable path reads
    "c-7,Gita,,,,,,,,,2026-01-05T10:00:00.5,\n"
    "c-8,Hadi,,,,,,,,,20260105,\n"
    "c-9,Ika,,ika@élan.id,,,,,,,2026-01-05,\n"
    "  c-10  ,  Joko  ,,,,,,,,,  2026-01-05  ,\n"
    # rejections
    ",Kosong,,,,,,,,,2026-01-05,\n"
    "c-11,Lina,,,,,,,,,,\n"
    "c-12,Maya,,,,,,,,,31/12/2026,\n"
    "c-13,Nina,,,,,,,,,2026-02-30,\n"
    "c-14,Oki,,,,,,,,,1899-12-31,\n"
    "c-15,Putu,,,,,,,,,2026-01-05T24:00:00,\n"
    "c-16,Rudi,,,,co-404,,,,,2026-01-05,\n"
    "c-17,Sari,,,,,,nobody,,,2026-01-05,\n"
    "c-18,Tono,,,,,,,IDN,,2026-01-05,\n"
    f"c-19,{'U' * 151},,,,,,,,,2026-01-05,\n"
    # the same key twice: the later row wins
    "c-20,First,,,,,,,,,2026-01-05,\n"
    "c-20,Second,,,,,,,,,2026-01-05,\n"
    # a blank row is no row
    ",,,,,,,,,,,\n"
    # an update, and a row equal to what is stored
    "old-1,Baru,,,,,,,,,2025-01-01,\n"
    "old-2,Sama,,,,,,,,,2025-01-01T00:00:00,\n"
)

DEALS = (
    "external_id,name,contact_external_id,company_external_id,stage,outcome,win_probability,"
    "amount,currency,created_at,closed_at,expected_close_at,lost_reason,owner\n"
    "d-1,Satu,c-old,co-1,Proposal,,40,1500000.50,idr,2026-01-05,,2026-03-31,,rina\n"
    "d-2,Dua,,,won,won,,2000000,USD,2026-01-05,2026-02-01T10:00,,,\n"
    "d-3,Tiga,,,Lost,lost,,0,,2026-01-05,2026-02-01,,harga terlalu mahal,\n"
    "d-4,Empat,,,Lost,LOST,,+12.5,,2026-01-05,2026-02-01,,Budget,\n"
    # the portable path's: a new stage, a new lost reason, rarer forms
    "d-5,Lima,,,Brand New Stage,open,,5,,2026-01-05,,,,\n"
    "d-6,Enam,,,Lost,lost,,5,,2026-01-05,,,Kompetitor,\n"
    "d-7,Tujuh,,,Proposal,,,5.,,2026-01-05,,,,\n"
    "d-8,Delapan,,,Proposal,,,5,,2026-01-05T10:00:00.25,,,,\n"
    # rejections
    "d-9,,,,Proposal,won,,5,,2026-01-05,,,,\n"
    "d-10,,,,Proposal,maybe,,5,,2026-01-05,,,,\n"
    "d-11,,,,Proposal,,101,5,,2026-01-05,,,,\n"
    "d-12,,,,Proposal,,,-5,,2026-01-05,,,,\n"
    "d-13,,,,Proposal,,,1e3,,2026-01-05,,,,\n"
    "d-14,,,,Proposal,,,1000000000000,,2026-01-05,,,,\n"
    "d-15,,,,Proposal,,,5.123,,2026-01-05,,,,\n"
    "d-16,,,,Proposal,,,5,Rp,2026-01-05,,,,\n"
    "d-17,,,,Proposal,,,5,,2026-01-05,,soon,,\n"
    "d-18,,c-404,,Proposal,,,5,,2026-01-05,,,,\n"
    "d-19,,,,Proposal,,,5,,2026-01-05,,,,nobody\n"
    "d-20,,,,,,,5,,2026-01-05,,,,\n"
    "d-21,,,,Proposal,,,,,2026-01-05,,,,\n"
    "d-22,,,,Proposal,,,5,,,,,,\n"
    # the same key twice, a blank row, an update and an unchanged row
    "d-23,A,,,Proposal,,,5,,2026-01-05,,,,\n"
    "d-23,B,,,Proposal,,,6,,2026-01-05,,,,\n"
    ",,,,,,,,,,,,,\n"
    "old-d1,Lama,,,Proposal,,,999,,2025-01-01,,,,\n"
    "old-d2,Sama,,,Proposal,,,100,,2025-01-01,,,,\n"
)

CHAT_ROOMS = (
    "external_id,chat_contact_external_id,created_at,first_response_at,resolved_at,agent,"
    "csat_score\n"
    "r-1,cc-1,2026-01-05T10:00:00,2026-01-05T10:05:00,2026-01-05T11:00:00,Sari,5\n"
    "r-2,cc-1,2026-01-05,,,,\n"
    "r-3,cc-1,2026-01-05T10:00,2026-01-05T10:00,,Budi,+3\n"
    # rejections
    "r-4,cc-1,2026-01-05T10:00:00,2026-01-05T09:00:00,,,\n"
    "r-5,cc-1,2026-01-05T10:00:00,,2026-01-04,,\n"
    "r-6,cc-1,2026-01-05,,,,6\n"
    "r-7,cc-1,2026-01-05,,,,4.5\n"
    "r-8,cc-404,2026-01-05,,,,\n"
    "r-9,,2026-01-05,,,,\n"
    "r-10,cc-1,,,,,\n"
    "r-11,cc-1,2026-01-05,,,{'a' * 151},\n"
    # the same key twice, an update, an unchanged row
    "r-12,cc-1,2026-01-05,,,A,\n"
    "r-12,cc-1,2026-01-05,,,B,\n"
    "old-r1,cc-1,2025-01-01,,,Baru,\n"
    "old-r2,cc-1,2025-01-01,,,Sama,\n"
).replace("{'a' * 151}", "a" * 151)

DEAL_ITEMS = (
    "deal_external_id,product_external_id,quantity,unit_price\n"
    # equal to the deal's stored items: unchanged, not written
    "i-same,p-1,2,10\n"
    "i-same,p-2,1,5.00\n"
    # one line updates a stored item's quantity, one adds a product; the deal's rows are apart
    "i-upd,p-1,3,10\n"
    # a deal without items yet: the same product on two lines
    "i-new,p-1,1,10\n"
    "i-new,p-1,1,10\n"
    "  i-pad  ,  p-2  ,  +4  ,  7.5  \n"
    # the counts depend on the order: the unmatched line takes the stored item first
    "i-order,p-1,2,10\n"
    "i-order,p-1,1,10\n"
    # a bad line sends its deal's good line to the portable path with it
    "i-bad,p-1,1,10\n"
    "i-bad,p-1,-1,10\n"
    # a rarer number form the portable path reads
    "i-rare,p-1,2.,10\n"
    # rejections
    ",p-1,1,10\n"
    "i-404,p-1,1,10\n"
    "i-new2,p-404,1,10\n"
    "i-new2,p-1,1e3,10\n"
    "i-new2,p-1,1000000,10\n"
    "i-new2,p-1,1,10.123\n"
    "i-new2,p-1,,10\n"
    "i-new2,,1,10\n"
    ",,,\n"
    "i-upd,p-2,1,5\n"
)


def _given() -> None:
    UserFactory(username="rina")
    CompanyFactory(external_id="co-1")
    customer = CustomerFactory()
    ContactFactory(external_id="old-1", first_name="Lama", customer=customer)
    ContactFactory(
        external_id="old-2",
        first_name="Sama",
        created_at=datetime(2024, 12, 31, 17, tzinfo=UTC),
    )
    ContactFactory(external_id="c-old")
    StageFactory(name="Proposal", outcome="open")
    LostReasonFactory(name="Harga Terlalu Mahal")
    LostReasonFactory(name="Budget")
    lost = PipelineStage.objects.get(name="Lost")
    DealFactory(external_id="old-d1", stage=lost, amount=Decimal(1))
    proposal = PipelineStage.objects.get(name="Proposal")
    DealFactory(
        external_id="old-d2",
        name="Sama",
        stage=proposal,
        amount=Decimal(100),
        currency="IDR",
        created_at=datetime(2024, 12, 31, 17, tzinfo=UTC),
        contact=None,
        company=None,
        owner=None,
        win_probability=None,
        closed_at=None,
        lost_reason=None,
    )
    chat_contact = ChatContactFactory(external_id="cc-1")
    ChatRoomFactory(external_id="old-r1", chat_contact=chat_contact, agent="Lama")
    p1, p2 = ProductFactory(external_id="p-1"), ProductFactory(external_id="p-2")
    same = DealFactory(external_id="i-same")
    DealItemFactory(deal=same, product=p1, quantity=Decimal(2), unit_price=Decimal(10))
    DealItemFactory(deal=same, product=p2, quantity=Decimal(1), unit_price=Decimal(5))
    upd = DealFactory(external_id="i-upd")
    DealItemFactory(deal=upd, product=p1, quantity=Decimal(1), unit_price=Decimal(10))
    order = DealFactory(external_id="i-order")
    DealItemFactory(deal=order, product=p1, quantity=Decimal(1), unit_price=Decimal(10))
    for key in ("i-new", "i-pad", "i-bad", "i-rare", "i-new2"):
        DealFactory(external_id=key)
    untouched = DealFactory(external_id="i-untouched")
    DealItemFactory(deal=untouched, product=p2)
    ChatRoomFactory(
        external_id="old-r2",
        chat_contact=chat_contact,
        agent="Sama",
        created_at=datetime(2024, 12, 31, 17, tzinfo=UTC),
    )


def _snapshot(kind: str) -> dict:
    if kind == "deal_items":
        # Items have no key of their own: compare every deal's lines, sorted.
        items = sorted(
            DealItem.objects.values_list(
                "deal__external_id", "product__external_id", "quantity", "unit_price"
            )
        )
        return {"rows": dict(enumerate(items))}
    skip = {"id", "updated_at"}
    model = {"contacts": Contact, "deals": Deal, "chat_rooms": ChatRoom}[kind]
    rows = {}
    for record in model.objects.all():
        row = {k: v for k, v in model_to_dict(record).items() if k not in skip}
        if kind == "deals":
            # Stages and reasons created by a load get new ids each time: compare names.
            row["stage"] = record.stage.name
            row["lost_reason"] = record.lost_reason.name if record.lost_reason else None
        rows[record.external_id] = row
    return {
        "rows": rows,
        "stages": sorted(PipelineStage.objects.values_list("name", "outcome")),
        "reasons": sorted(LostReason.objects.values_list("name", flat=True)),
        "identity_changes": IdentityChange.objects.count(),
    }


def _load_twice(
    kind: str, text: str, *, copy: bool, settings, **options: object
) -> tuple[list, dict]:
    settings.WAWASAN_IMPORT_COPY = copy
    reports = []
    with transaction.atomic():
        for _ in range(2):
            seen = []
            result = import_records(
                kind=kind,
                stream=io.BytesIO(text.encode("utf-8")),
                on_rejection=lambda rejection, header, seen=seen: seen.append(
                    (rejection.line, rejection.reason, rejection.values)
                ),
                **options,
            )
            reports.append((result.summary(), seen))
        snapshot = _snapshot(kind)
        transaction.set_rollback(True)
    return reports, snapshot


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("contacts", CONTACTS),
        ("deals", DEALS),
        ("chat_rooms", CHAT_ROOMS),
        ("deal_items", DEAL_ITEMS),
    ],
)
def test_both_paths_give_the_same_reports_and_rows(kind, text, settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's; SQLite has the portable path only")
    # given
    _given()
    accepted = []
    load = fast.PLANS[kind].load

    def spy(self, low, high, result):
        count = load(self, low, high, result)
        accepted.append(count)
        return count

    monkeypatch.setattr(fast.PLANS[kind], "load", spy)

    # when
    portable, portable_rows = _load_twice(kind, text, copy=False, settings=settings)
    copied, copied_rows = _load_twice(kind, text, copy=True, settings=settings)

    # then: the COPY path ran and accepted rows itself, and every report row is the same
    assert accepted and accepted[0] > 0
    assert [summary for summary, _ in copied] == [summary for summary, _ in portable]
    for (_, portable_seen), (_, copied_seen) in zip(portable, copied, strict=True):
        assert copied_seen == portable_seen
    assert sorted(copied_rows["rows"]) == sorted(portable_rows["rows"])
    for key, row in portable_rows["rows"].items():
        assert (key, copied_rows["rows"][key]) == (key, row)
    assert copied_rows == portable_rows
    assert portable[0][1], "the file must hold rejected rows"
    assert portable[1][0].split(", ")[0] == "created 0"
    if kind == "deal_items":
        # Every case of the file happened: kept, updated, created, and the deals the SQL
        # leaves whole to the portable path (the order matters, a bad or rarer line).
        assert portable[0][0] == "created 6, updated 2, unchanged 3, rejected 9"
        assert accepted[0] == 7  # i-same, i-upd, i-new and i-pad
        untouched = ("i-untouched", "p-2", Decimal(1), Decimal("100000.00"))
        assert untouched in copied_rows["rows"].values()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("not UTF-8", b"c-2,Ani\xe9,2026-01-05\n"),
        ("quote never closed", b'c-2,"Ani,2026-01-05\nc-3,Budi,2026-01-05\n'),
        ("quoted line break", b'c-2,"Ani\nSetia",2026-01-05\n'),
        ("too many cells", b"c-2,Ani,x,2026-01-05\n"),
        ("too few cells", b"c-2,Ani\n"),
        ("blank line", b"\nc-2,Ani,2026-01-05\n"),
        ("NUL", b"c-2,A\x00ni,2026-01-05\n"),
        ("quote inside a cell", b'c-2,Ani "AA" W,2026-01-05\n'),
        ("copy end marker", b"\\.\nc-2,Ani,2026-01-05\n"),
        ("lone carriage return", b"c-2,Ani\rX,2026-01-05\n"),
        ("no newline at the end", b"c-2,Ani,2026-01-05"),
    ],
)
def test_files_copy_would_read_otherwise_take_the_portable_path_with_the_same_report(
    name, data, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    text = (b"external_id,first_name,created_at\nc-1,Ani,2026-01-05\n" + data).decode(
        "utf-8", "surrogateescape"
    )

    def load(copy: bool):
        settings.WAWASAN_IMPORT_COPY = copy
        seen = []
        with transaction.atomic():
            result = import_records(
                kind="contacts",
                stream=io.BytesIO(text.encode("utf-8", "surrogateescape")),
                on_rejection=lambda rejection, header: seen.append(
                    (rejection.line, rejection.reason)
                ),
            )
            rows = sorted(Contact.objects.values_list("external_id", "first_name"))
            transaction.set_rollback(True)
        return result.summary(), seen, rows

    assert load(True) == load(False)


def test_a_text_stream_takes_the_portable_path():
    assert not fast.applies(kind="contacts", stream=io.StringIO("external_id\n"))


def test_the_sql_key_of_an_indonesian_mobile_number_is_phone_key():
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    # given: mobile numbers of every length the SQL keys itself, and some it leaves to Python
    import random

    from customers.keys import phone_key

    rng = random.Random(33)
    phones = []
    for digits in range(6, 16):
        for _ in range(40):
            national = "8" + "".join(rng.choice("0123456789") for _ in range(digits))
            phones += ["0" + national, "+62" + national]
    phones += ["0812-3456-7890", "+62 812 3456 7890", "02112345678", "+6521234567"]

    # when
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p, {fast.mobile_phone('p')}, {fast.mobile_phone_key('p')} "
            "FROM unnest(%s::text[]) p",
            [phones],
        )
        rows = cursor.fetchall()

    # then: where the SQL keys a phone, its key is phone_key's
    keyed = [(phone, key) for phone, mobile, key in rows if mobile]
    assert len(keyed) == 5 * 40 * 2  # 8 to 12 digits after "8", both ways of writing
    assert [(phone, phone_key(phone)) for phone, _ in keyed] == keyed
    assert not any(mobile for phone, mobile, _ in rows if not phone[1:].isdigit())


def test_batches_and_pages_of_the_copy_path_keep_the_report(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    # given: batches of 7 staged rows, the portable path's rows read back 3 at a time
    monkeypatch.setattr(fast, "FAST_BATCH", 7)
    monkeypatch.setattr(fast, "SLOW_PAGE", 3)
    lines = ["external_id,first_name,created_at"]
    for n in range(40):
        stamp = "2026-01-05" if n % 3 else "not a date"
        lines.append(f"c-{n % 30},Ani{n},{stamp}")
    text = "\n".join(lines) + "\n"
    progress: list[int] = []

    def load(copy: bool):
        settings.WAWASAN_IMPORT_COPY = copy
        seen = []
        with transaction.atomic():
            result = import_records(
                kind="contacts",
                stream=io.BytesIO(text.encode()),
                on_rejection=lambda rejection, header: seen.append(
                    (rejection.line, rejection.reason)
                ),
                progress=progress.append,
                batch_size=4,
            )
            rows = sorted(Contact.objects.values_list("external_id", "first_name"))
            transaction.set_rollback(True)
        return result.summary(), seen, rows

    # when
    portable = load(False)
    del progress[:]
    copied = load(True)

    # then
    assert copied == portable
    assert sum(progress) == 40


def test_a_crlf_file_split_between_blocks_takes_the_copy_path(settings, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    # given: Windows line ends, and blocks of 7 bytes that split "\r\n" pairs
    monkeypatch.setattr(fast, "COPY_BLOCK", 7)
    settings.WAWASAN_IMPORT_COPY = True
    accepted = []
    load = fast.Plan.load
    monkeypatch.setattr(
        fast.Plan, "load", lambda self, *args: accepted.append(load(self, *args)) or accepted[-1]
    )
    text = "external_id,first_name,created_at\r\n" + "".join(
        f"c-{n},Ani,2026-01-05\r\n" for n in range(20)
    )

    # when
    result = import_records(kind="contacts", stream=io.BytesIO(text.encode()))

    # then
    assert result.summary() == "created 20, updated 0, unchanged 0, rejected 0"
    assert accepted == [20]


FILES = {"contacts": CONTACTS, "deals": DEALS, "chat_rooms": CHAT_ROOMS, "deal_items": DEAL_ITEMS}


@pytest.mark.parametrize("dry_run", [False, True])
@pytest.mark.parametrize("kind", list(FILES))
def test_the_import_page_takes_the_copy_path_for_a_user_who_sees_every_record(
    kind, dry_run, settings, monkeypatch
):
    """The Import CSV page's rules (imports.scoping) through both paths: the same reports and
    rows, the owner of a new contact or deal without one is the uploader, and a dry run keeps
    nothing."""
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    # given: a superuser at the page
    _given()
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    accepted = []
    load = fast.PLANS[kind].load
    monkeypatch.setattr(
        fast.PLANS[kind],
        "load",
        lambda self, *args: accepted.append(load(self, *args)) or accepted[-1],
    )
    options = {"rights": RowRights(user=boss), "dry_run": dry_run}

    # when
    portable, portable_rows = _load_twice(
        kind, FILES[kind], copy=False, settings=settings, **options
    )
    copied, copied_rows = _load_twice(kind, FILES[kind], copy=True, settings=settings, **options)

    # then
    assert accepted and accepted[0] > 0
    assert copied == portable
    assert copied_rows == portable_rows
    if dry_run:
        assert portable[0][0] == portable[1][0], "a dry run keeps nothing"
    elif kind in ("contacts", "deals"):
        # A new record whose owner cell is blank is the uploader's (the second load of the
        # same file then clears it: a blank cell in an owner column does, for a manager).
        with transaction.atomic():
            import_records(kind=kind, stream=io.BytesIO(FILES[kind].encode()), **options)
            owners = set(_snapshot(kind)["rows"]["c-2" if kind == "contacts" else "d-2"].items())
            transaction.set_rollback(True)
        assert ("owner", boss.pk) in owners


def test_a_sales_rep_at_the_import_page_takes_the_portable_path(settings, monkeypatch):
    """A rep's rows are checked against their own records one by one (imports.scoping)."""
    if connection.vendor != "postgresql":
        pytest.skip("the COPY path is PostgreSQL's")
    # given
    settings.WAWASAN_IMPORT_COPY = True
    rep = UserFactory(username="rita", is_staff=True)
    rep.groups.add(Group.objects.get(name=SALES_REP))
    monkeypatch.setattr(fast, "import_fast", lambda **kwargs: pytest.fail("COPY path taken"))

    # when
    result = import_records(
        kind="contacts",
        stream=io.BytesIO(b"external_id,first_name,created_at\nc-1,Ani,2026-01-05\n"),
        rights=RowRights(user=rep),
    )

    # then: the row is the rep's, written by the portable path
    assert result.summary() == "created 1, updated 0, unchanged 0, rejected 0"
    assert Contact.objects.get(external_id="c-1").owner == rep
    assert not fast.rights_allow("contacts", RowRights(user=rep))
