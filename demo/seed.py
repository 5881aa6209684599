"""Realistic Indonesian demo data: CRM contacts, chat identities, deals and chat rooms.

Deterministic for a seed and a reference day: every value comes from one random.Random(seed),
and records get stable external ids ("demo-..."), so a second run upserts the same rows
(customer ids stay put) and removes demo rows a smaller run no longer has.
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction

from chats.models import ChatContact, ChatRoom, Holiday, ServiceTarget, SurveyResponse
from customers.keys import email_key, phone_key
from customers.models import Company, Contact
from deals.models import Deal, DealItem, LostReason, PipelineStage, Product, SalesTarget

PREFIX = "demo-"
HISTORY_DAYS = 548  # about 18 months up to today

FIRST_NAMES = (
    "Budi Agus Dewi Siti Rina Andi Putri Eko Wahyu Sri Dian Yusuf Ahmad Nur Indah Rizky Fajar "
    "Ayu Bayu Citra Dimas Fitri Galih Hendra Intan Joko Kartika Lestari Maya Nanda Oka Pratiwi "
    "Rahmat Sari Teguh Umar Vina Wulan Yoga Zahra Ketut Made Wayan Nyoman Gede Putu Bambang "
    "Hadi Irfan Lina Mega Novi Reza Sinta Tono Yanti Asep Ujang Neneng Cecep"
).split()
LAST_NAMES = (
    "Santoso Wijaya Saputra Pratama Hidayat Kusuma Setiawan Nugroho Lestari Siregar Nasution "
    "Harahap Simanjuntak Hutapea Sitompul Wibowo Susanto Gunawan Halim Tanjung Lubis Rahayu "
    "Purnama Permana Hakim Syahputra Sembiring Ginting Manurung Situmorang Sinaga Tambunan "
    "Kurniawan Firmansyah Ramadhan Maulana Suryadi Hartono Salim Tan"
).split()
COMPANY_WORDS = (
    "Maju Jaya Sejahtera Abadi Makmur Sentosa Karya Mandiri Nusantara Bintang Cahaya Sinar "
    "Mulia Prima Utama Global Indo Mitra Sukses Berkah Agung Gemilang Lestari Perkasa Samudra "
    "Harapan Kencana Artha Buana"
).split()
INDUSTRIES = [
    "Retail",
    "F&B",
    "Manufaktur",
    "Logistik",
    "Pendidikan",
    "Kesehatan",
    "Properti",
    "Teknologi",
    "Perhotelan",
    "",
]
SOURCES = [
    ("Website", 30),
    ("Referral", 20),
    ("Iklan Instagram", 15),
    ("Pameran", 8),
    ("Telemarketing", 7),
    ("Google Ads", 12),
    ("", 8),
]
CHANNELS = [
    ("WhatsApp", 55),
    ("Instagram", 15),
    ("Facebook", 8),
    ("Live chat", 10),
    ("Telegram", 4),
    ("LINE", 3),
    ("Email", 5),
]
MOBILE_PREFIXES = "811 812 813 821 822 823 852 853 856 857 858 877 878 881 895 896".split()
FREE_MAIL = ["gmail.com", "gmail.com", "gmail.com", "yahoo.co.id", "yahoo.com", "outlook.com"]
PRODUCTS = [
    ("Paket Kasir Starter", 1_500_000),
    ("Paket Kasir Pro", 3_750_000),
    ("Mesin Kasir Android", 4_200_000),
    ("Printer Struk Thermal", 850_000),
    ("Laci Uang", 650_000),
    ("Scanner Barcode", 725_000),
    ("Langganan Cloud Bulanan", 299_000),
    ("Langganan Cloud Tahunan", 2_990_000),
    ("Modul Inventori", 1_200_000),
    ("Modul Akuntansi", 1_800_000),
    ("Modul Loyalti Pelanggan", 950_000),
    ("Integrasi Marketplace", 2_500_000),
    ("Integrasi WhatsApp Business", 1_100_000),
    ("Pelatihan Staf (per sesi)", 500_000),
    ("Instalasi di Lokasi", 750_000),
    ("Dukungan Prioritas Tahunan", 3_000_000),
    ("Tablet Menu Digital", 3_200_000),
    ("Kios Pemesanan Mandiri", 12_500_000),
    ("Lisensi Cabang Tambahan", 1_650_000),
    ("Timbangan Digital", 1_350_000),
    ("Label Printer", 1_050_000),
    ("Paket Restoran Lengkap", 15_000_000),
    ("Paket Minimarket Lengkap", 18_500_000),
    ("Migrasi Data", 2_000_000),
    ("Konsultasi Bisnis (per jam)", 400_000),
]
LOST_REASONS = [
    ("Harga terlalu tinggi", 35),
    ("Pilih kompetitor", 25),
    ("Tidak ada anggaran", 15),
    ("Tidak merespons", 15),
    ("Waktu belum tepat", 7),
    ("Fitur tidak sesuai", 5),
    ("", 8),  # lost without a reason: "Unspecified" in the figures
]
REPS = [("rina", "Rina", "Kusuma"), ("agus", "Agus", "Setiawan"), ("dewi", "Dewi", "Lestari")]
# Sales by owner (METRICS.md O) should show believable differences: each rep's monthly target
# as a share of what it sells in a typical month (Rina ahead of target, Agus behind), and Dewi
# closes slowly (her won and lost deals take three times as long, when that is not later
# than now). The team's own target asks a little more than the reps' targets together.
TARGET_SHARE = {"rina": Decimal("0.80"), "agus": Decimal("1.35"), "dewi": Decimal("1.00")}
SLOW_CLOSER = "dewi"
TEAM_TARGET_SHARE = Decimal("1.10")
AGENTS = ["Sari", "Putri", "Andi", "Yoga", "Nanda"]
# Placeholders above the fan-out limit (METRICS.md section 2): never used for matching.
SHOP_PHONE = "021-5550-1234"
NOREPLY_EMAIL = "noreply@tokoku.co.id"


@dataclass
class _Person:
    first: str
    last: str
    mobile: str  # national significant number, e.g. "81234567890"
    email: str  # canonical lower-case
    first_day: date


# Mostly Indonesian cities, some abroad; weights are rough shares of contacts.
PLACES = [
    (("ID", "Jakarta"), 30),
    (("ID", "Surabaya"), 12),
    (("ID", "Bandung"), 10),
    (("ID", "Medan"), 7),
    (("ID", "Semarang"), 6),
    (("ID", "Makassar"), 5),
    (("ID", "Yogyakarta"), 5),
    (("ID", "Denpasar"), 4),
    (("ID", "Palembang"), 3),
    (("ID", "Balikpapan"), 2),
    (("SG", "Singapore"), 4),
    (("MY", "Kuala Lumpur"), 3),
    (("AU", "Perth"), 1),
    (("NL", "Amsterdam"), 1),
]


def _demo_places(contacts: list[Contact], *, rng: random.Random) -> None:
    """Country and city on about three CRM contacts in four; a sixth give only a city.

    Its own random stream, so adding places left every other demo number as it was; contacts
    without a country take their phone's (METRICS.md section 2).
    """
    places = [place for place, _ in PLACES]
    weights = [weight for _, weight in PLACES]
    for contact in contacts:
        roll = rng.random()
        country, city = rng.choices(places, weights=weights)[0]
        if roll < 0.75:
            contact.country, contact.city = country, city
        elif roll < 0.9:
            contact.city = city


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in pairs], weights=[w for _, w in pairs])[0]


def _phone_written(rng: random.Random, mobile: str) -> str:
    """The same number the many ways people type it."""
    a, b, c = mobile[:3], mobile[3:7], mobile[7:]
    return rng.choice(
        [
            f"0{a}-{b}-{c}",
            f"+62 {a} {b} {c}",
            f"62{mobile}",
            f"(0{a}) {b} {c}",
            f"0{mobile}",
            f"+62{mobile}",
            f"0{a} {b} {c}",
            f"+62-{a}-{b}-{c}",
            f"0{a}.{b}.{c}",
        ]
    )


def _email_written(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    return rng.choice(
        [
            email,
            email,
            f"{local.title()}@{domain}",
            f"{local}@{domain.title()}",
            email.upper(),
            f" {email} ",
        ]
    )


def demo_seed(
    *, people: int = 3000, seed: int = 42, today: date, now: datetime | None = None
) -> dict[str, int]:
    """Write the demo data set for `people` persons; returns the number of rows per model.

    `now` is the clock (default: the start of `today`): nothing is dated after it. An event
    drawn later than `now` has not happened yet: a deal or room not created yet is left out,
    a deal not closed yet stays open, a room not resolved yet stays open. (Clamping such
    moments to `now` piled hundreds of deals onto one minute and made "Today" look broken.)
    """
    rng = random.Random(seed)
    tz = ZoneInfo(settings.TIME_ZONE)
    if now is None:
        now = datetime.combine(today, time(0, 0), tzinfo=tz)

    def moment(day: date) -> datetime:
        at = datetime.combine(day, time(rng.randint(8, 20), rng.randint(0, 59)), tzinfo=tz)
        while at > now:  # today, at an hour still to come: the same hour a day earlier
            at -= timedelta(days=1)
        return at

    def later(start: datetime, min_hours: int, max_hours: int) -> datetime | None:
        at = start + timedelta(minutes=rng.randint(min_hours * 60, max_hours * 60))
        return at if at <= now else None

    # --- Catalogue ---------------------------------------------------------------------------
    products = [
        Product(
            external_id=f"{PREFIX}p-{n}",
            name=name,
            sku=f"SKU-{n + 1:03d}",
            price=Decimal(price).quantize(Decimal("0.01")),
        )
        for n, (name, price) in enumerate(PRODUCTS)
    ]
    companies = []
    for n in range(max(3, people // 15)):
        words = rng.sample(COMPANY_WORDS, 2)
        form = rng.choice(["PT", "PT", "PT", "CV"])
        companies.append(
            Company(
                external_id=f"{PREFIX}co-{n}",
                name=f"{form} {words[0]} {words[1]}" + (" Tbk" if rng.random() < 0.05 else ""),
                industry=rng.choice(INDUSTRIES),
                created_at=moment(today - timedelta(days=rng.randint(HISTORY_DAYS, 1500))),
            )
        )

    # --- People and their records -------------------------------------------------------------
    persons = []
    used_mobiles: set[str] = set()
    for n in range(people):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES + [""] * 6)
        mobile = rng.choice(MOBILE_PREFIXES) + str(rng.randint(10**6, 10**8 - 1))
        while mobile in used_mobiles:
            mobile = rng.choice(MOBILE_PREFIXES) + str(rng.randint(10**6, 10**8 - 1))
        used_mobiles.add(mobile)
        local = f"{first}.{last}".strip(".").lower() + ("" if rng.random() < 0.3 else str(n))
        # More people arrive recently: a growing business looks like one.
        age = int(HISTORY_DAYS * (1 - rng.random() ** 0.7))
        persons.append(
            _Person(
                first, last, mobile, f"{local}@{rng.choice(FREE_MAIL)}", today - timedelta(days=age)
            )
        )

    contacts, chat_contacts = [], []
    for n, person in enumerate(persons):
        in_crm = rng.random() < 0.7
        chat_count = (
            rng.choices([0, 1, 2], weights=[30, 50, 20])[0] if in_crm else rng.choice([1, 1, 2])
        )
        if in_crm:
            company = rng.choice(companies) if rng.random() < 0.4 else None
            contacts.append(
                Contact(
                    external_id=f"{PREFIX}c-{n}",
                    first_name=person.first,
                    last_name=person.last,
                    email=_email_written(rng, person.email) if rng.random() < 0.85 else "",
                    phone=_phone_written(rng, person.mobile) if rng.random() < 0.8 else "",
                    company=company,
                    source=_weighted(rng, SOURCES),
                    created_at=moment(person.first_day + timedelta(days=rng.randint(0, 20))),
                )
            )
            contacts[-1].owner_username = rng.choice(REPS)[0]
        channels = rng.sample([c for c, _ in CHANNELS], k=chat_count) if chat_count else []
        for k, channel in enumerate(channels):
            by_email = channel == "Email"
            chat_contacts.append(
                ChatContact(
                    external_id=f"{PREFIX}cc-{n}-{k}",
                    channel=channel,
                    name=person.first
                    if rng.random() < 0.5
                    else f"{person.first} {person.last}".strip(),
                    email=_email_written(rng, person.email)
                    if by_email or rng.random() < 0.2
                    else "",
                    phone=_phone_written(rng, person.mobile)
                    if not by_email and rng.random() < 0.9
                    else "",
                    created_at=moment(person.first_day + timedelta(days=rng.randint(0, 60))),
                )
            )
    placeholders = min(55, max(3, people // 20))
    for n in range(placeholders):
        # Walk-in sales typed with the shop's own number, web forms with the no-reply address.
        person = rng.choice(persons)
        chat_contacts.append(
            ChatContact(
                external_id=f"{PREFIX}cc-shop-{n}",
                channel="WhatsApp",
                name=f"{person.first} (toko)",
                phone=_phone_written(rng, "2155501234") if rng.random() < 0.5 else SHOP_PHONE,
                created_at=moment(person.first_day),
            )
        )
        contacts.append(
            Contact(
                external_id=f"{PREFIX}c-noreply-{n}",
                first_name=rng.choice(FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                email=NOREPLY_EMAIL if rng.random() < 0.6 else NOREPLY_EMAIL.upper(),
                source="Website",
                created_at=moment(person.first_day),
            )
        )
        contacts[-1].owner_username = rng.choice(REPS)[0]
    _demo_places(contacts, rng=random.Random(seed + 17))
    for record in [*contacts, *chat_contacts]:
        # bulk_create skips Model.save, which would compute these.
        record.email_key, record.phone_key = email_key(record.email), phone_key(record.phone)

    # --- Deals ------------------------------------------------------------------------------
    deals, items = [], []
    for contact in contacts:
        if rng.random() > 0.55:
            continue
        for k in range(rng.choices([1, 2, 3, 4], weights=[55, 28, 12, 5])[0]):
            created = later(contact.created_at, 1, 24 * 200)
            if created is None:
                continue  # not created yet
            age_days = (now - created).days
            # Old deals are mostly decided; fresh ones mostly still open.
            roll = rng.random() * (1 if age_days > 45 else 2.2)
            stage = "Won" if roll < 0.42 else "Lost" if roll < 0.8 else None
            closed = later(created, 24 * 2, 24 * 60) if stage else None
            if stage is None or closed is None:  # not decided yet
                stage = rng.choice(["Qualification", "Proposal", "Negotiation"])
            elif contact.owner_username == SLOW_CLOSER and created + 3 * (closed - created) <= now:
                closed = created + 3 * (closed - created)  # no draw: the other values stay
            lines = []
            for _ in range(rng.choices([1, 2, 3], weights=[50, 35, 15])[0]):
                product = rng.choice(products)
                quantity = Decimal(rng.choice([1, 1, 1, 2, 3, 5, 10]))
                discount = Decimal(rng.choice([100, 100, 95, 90, 85])) / 100
                lines.append((product, quantity, (product.price * discount).quantize(Decimal("1"))))
            amount = sum((q * p for _, q, p in lines), Decimal(0))
            deal = Deal(
                external_id=f"{contact.external_id.replace('-c-', '-d-', 1)}-{k}",
                name=f"{lines[0][0].name} – {contact.first_name}",
                contact=contact,
                company=contact.company,
                win_probability=rng.choice([None, None, None, 25, 60])
                if stage in ("Qualification", "Proposal", "Negotiation")
                else None,
                amount=amount.quantize(Decimal("0.01")),
                currency=settings.INSIGHTS_CURRENCY,
                created_at=created,
                closed_at=closed if stage in ("Won", "Lost") else None,
            )
            # Names only: the rows they refer to are looked up at write time, outside the rng.
            deal.stage_name, deal.owner_username = stage, contact.owner_username
            deal.lost_reason_name = _weighted(rng, LOST_REASONS) if stage == "Lost" else ""
            deals.append(deal)
            items.extend(
                DealItem(deal=deal, product=p, quantity=q, unit_price=price)
                for p, q, price in lines
            )

    # --- Repeat purchases -------------------------------------------------------------------
    # Buyers who come back, as the customer value model (METRICS.md V, MBG/NBD) assumes people
    # buy: each at its own pace (a gamma-distributed rate: some every two weeks, some twice a
    # year) and each with its own chance of never coming back, drawn again after every
    # purchase, the first included. Rates all alike would make the model's fit run to a limit
    # (nothing to tell customers apart) and the dashboard would say "not fitted". The slow ones
    # are lost under the default 90-day window and then return, so the buyer lifecycle and
    # retention charts show returning and lost buyers in most months. A second generator keeps
    # every value drawn above unchanged for a seed.
    again = random.Random(seed * 7919 + 14)
    first_won: dict[str, Deal] = {}
    for deal in deals:
        if deal.stage_name == "Won" and deal.contact.external_id not in first_won:
            first_won[deal.contact.external_id] = deal
    for deal in list(first_won.values()):
        mean_gap_days = min(400.0, max(10.0, 40.0 / again.gammavariate(1.2, 1.0)))
        dropout = again.betavariate(0.3, 0.5)
        cycle_factor = 3 if deal.owner_username == SLOW_CLOSER else 1
        bought = deal.closed_at
        for k in range(12):
            if again.random() < dropout:
                break
            gap = max(3.0, again.expovariate(1.0 / mean_gap_days))
            bought = bought + timedelta(days=gap, minutes=again.randint(0, 600))
            if bought >= now:
                break
            product = again.choice(products)
            quantity = Decimal(again.choice([1, 1, 2, 3]))
            repeat = Deal(
                external_id=f"{deal.external_id}-r{k}",
                name=f"{product.name} – {deal.contact.first_name}",
                contact=deal.contact,
                company=deal.company,
                amount=(quantity * product.price).quantize(Decimal("0.01")),
                currency=settings.INSIGHTS_CURRENCY,
                created_at=bought - timedelta(days=again.randint(1, 10) * cycle_factor),
                closed_at=bought,
            )
            repeat.stage_name, repeat.owner_username = "Won", deal.owner_username
            repeat.lost_reason_name = ""
            deals.append(repeat)
            items.append(
                DealItem(deal=repeat, product=product, quantity=quantity, unit_price=product.price)
            )

    _pipeline_demo(deals, seed=seed, today=today, now=now, tz=tz)

    # --- Chat rooms -------------------------------------------------------------------------
    rooms = []
    for chat_contact in chat_contacts:
        for k in range(rng.choices([1, 2, 3, 4], weights=[50, 30, 12, 8])[0]):
            opened = later(chat_contact.created_at, 0, 24 * 120)
            if opened is None:
                continue  # not opened yet
            resolved = later(opened, 0, 48) if rng.random() < 0.9 else None
            rooms.append(
                ChatRoom(
                    external_id=f"{chat_contact.external_id.replace('-cc-', '-room-', 1)}-{k}",
                    chat_contact=chat_contact,
                    created_at=opened,
                    resolved_at=resolved,
                    agent=rng.choice(AGENTS),
                    csat_score=rng.choices([1, 2, 3, 4, 5], weights=[4, 6, 15, 35, 40])[0]
                    if resolved and rng.random() < 0.7
                    else None,
                )
            )
    surveys = _service_demo(rooms=rooms, contacts=contacts, seed=seed, now=now)

    counts = _write(
        products=products,
        companies=companies,
        contacts=contacts,
        chat_contacts=chat_contacts,
        deals=deals,
        items=items,
        rooms=rooms,
        surveys=surveys,
        today=today,
    )
    counts["sales_targets"] = _targets_write(deals=deals, today=now.astimezone(tz).date(), tz=tz)
    return counts


def _month_start(day: date, shift: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + shift
    return date(index // 12, index % 12 + 1, 1)


def _targets_write(*, deals: list, today: date, tz: ZoneInfo) -> int:
    """Monthly targets from six months back to two ahead: each rep's share (TARGET_SHARE) of
    what it sold that month (the coming months: of the last whole month), in round 100,000s,
    so Rina stays ahead and Agus behind while sales grow; the team's asks a little more."""
    months = [_month_start(today, shift) for shift in range(-6, 3)]
    this = _month_start(today)
    sold: dict[tuple[str, date], Decimal] = {}
    for deal in deals:
        if deal.stage_name == "Won" and deal.closed_at is not None:
            key = (deal.owner_username, _month_start(deal.closed_at.astimezone(tz).date()))
            sold[key] = sold.get(key, Decimal(0)) + deal.amount
    users = {u.username: u for u in get_user_model().objects.filter(username__in=TARGET_SHARE)}
    step = Decimal(100_000)
    rows = 0
    for month in months:
        base = min(month, _month_start(this, -1))
        targets: dict[str | None, Decimal] = {
            username: max(step, (sold.get((username, base), 0) * share / step).quantize(1) * step)
            for username, share in TARGET_SHARE.items()
        }
        targets[None] = (sum(targets.values()) * TEAM_TARGET_SHARE / step).quantize(1) * step
        for username, amount in targets.items():
            SalesTarget.objects.update_or_create(
                owner=users.get(username) if username else None,
                month=month,
                defaults={"amount": amount},
            )
            rows += 1
    return rows


# --- Pipeline and forecast (issue 28) --------------------------------------------------------
OPEN_STAGES = ("Qualification", "Proposal", "Negotiation")
# name, outcome, default win probability, order (as deals/migrations/0002_default_pipeline)
DEMO_PIPELINE = (
    ("Qualification", "open", 10, 10),
    ("Proposal", "open", 40, 20),
    ("Negotiation", "open", 70, 30),
    ("Won", "won", 100, 40),
    ("Lost", "lost", 0, 50),
)


def _pipeline_demo(deals: list, *, seed: int, today: date, now: datetime, tz: ZoneInfo) -> None:
    """Give open deals an expected close date and every deal a history (deals.DealChange).

    Open deals: about one in ten undated; those that should have closed already (mostly the
    old ones) overdue; the rest expected over the next quarter, later stages sooner. History:
    each deal entered the pipeline at Qualification when created, moved through the stages
    and, when decided, to Won or Lost at its close; the expected close date was typed when it
    reached Proposal. A generator of its own keeps every value drawn before unchanged.
    """
    plan = random.Random(seed * 104729 + 28)

    def at_five(day: date) -> datetime:
        return datetime.combine(day, time(17, 0), tzinfo=tz)

    def between(start: datetime, end: datetime) -> datetime:
        span = max(int((end - start).total_seconds() // 60), 1)
        return min(start + timedelta(minutes=plan.randint(1, span)), now)

    for deal in deals:
        deal.expected_close_at = None
        decided = deal.stage_name in ("Won", "Lost")
        if not decided:
            age = (now - deal.created_at).days
            roll = plan.random()
            if roll < 0.1:
                expected = None
            elif roll < (0.55 if age > 90 else 0.15):
                expected = at_five(today - timedelta(days=plan.randint(1, 45)))
            else:
                soonest = {"Qualification": 20, "Proposal": 7, "Negotiation": 1}[deal.stage_name]
                expected = at_five(today + timedelta(days=plan.randint(soonest, 92)))
            deal.expected_close_at = expected
        # The history: (when, stage, win probability, expected close).
        steps = [(deal.created_at, "Qualification", None, None)]
        end = deal.closed_at if decided else now
        typed = deal.expected_close_at
        if decided and plan.random() < 0.8:
            slip = timedelta(days=plan.randint(-20, 25))
            typed = at_five(local_date_of(deal.closed_at, tz) + slip)
        path = ["Proposal", "Negotiation"] if decided else {
            "Qualification": [], "Proposal": ["Proposal"],
            "Negotiation": ["Proposal", "Negotiation"],
        }[deal.stage_name]  # fmt: skip
        moment = deal.created_at
        for stage in path:
            moment = between(moment, end)
            steps.append((moment, stage, deal.win_probability, typed))
        if decided:
            steps.append((deal.closed_at, deal.stage_name, None, typed))
        elif not path and typed is not None:
            steps.append((between(moment, end), "Qualification", deal.win_probability, typed))
        deal.demo_history = steps


def local_date_of(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def _history_write(deals: list) -> int:
    """Replace the demo deals' recorded history by the one _pipeline_demo drew."""
    from deals.models import DealChange

    DealChange.objects.filter(deal__external_id__startswith=PREFIX).delete()
    rows = [
        DealChange(
            deal_id=deal.pk,
            changed_at=when,
            stage_name=stage,
            win_probability=probability,
            amount=deal.amount,
            currency=deal.currency,
            expected_close_at=expected,
        )  # fmt: skip
        for deal in deals
        for when, stage, probability, expected in getattr(deal, "demo_history", ())
    ]
    DealChange.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


# --- Customer service (issue 16) -------------------------------------------------------------
# Minutes to the first reply and hours to resolution, (low, high) per channel: WhatsApp and
# live chat answer fast, social inboxes slower, email slowest.
SERVICE_TIMES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "WhatsApp": ((0.5, 30), (0.2, 12)),
    "Live chat": ((0.2, 10), (0.1, 6)),
    "Instagram": ((5, 120), (1, 24)),
    "Facebook": ((5, 120), (1, 24)),
    "Telegram": ((2, 60), (0.5, 18)),
    "LINE": ((2, 60), (0.5, 18)),
    "Email": ((30, 720), (4, 72)),
}
NPS_COMMENTS = {
    "promoter": ["Pelayanan cepat dan ramah, terima kasih!", "Adminnya sangat membantu.",
                 "Pasti saya rekomendasikan ke teman.", ""],
    "passive": ["Cukup baik, tapi balasannya agak lama.", "Lumayan.", ""],
    "detractor": ["Lama sekali dibalas, kecewa.", "Masalah saya belum selesai.",
                  "Harus menjelaskan berulang kali ke admin yang berbeda."],
}  # fmt: skip
CES_COMMENTS = ["Mudah sekali.", "Agak ribet, harus kirim data dua kali.", "Prosesnya jelas.", ""]


def _skewed(rng: random.Random, low: float, high: float) -> float:
    # Most rooms near the low end, a long tail to the high end (like real inboxes).
    return low + (high - low) * rng.random() ** 3


def _service_demo(*, rooms: list, contacts: list, seed: int, now: datetime) -> list:
    """First responses by channel, some unassigned rooms, NPS/CES answers with comments.

    A generator of its own, so the rows drawn before (people, deals, rooms) stay the same.
    """
    rng = random.Random(seed + 16)
    surveys = []
    for room in rooms:
        channel = room.chat_contact.channel
        (reply_low, reply_high), (fix_low, fix_high) = SERVICE_TIMES.get(
            channel, ((5, 120), (1, 24))
        )
        seconds = timedelta(seconds=rng.randint(0, 59), microseconds=rng.randint(0, 999999))
        first = room.created_at + timedelta(minutes=_skewed(rng, reply_low, reply_high))
        room.first_response_at = min(first + seconds, now) if rng.random() < 0.95 else None
        if room.resolved_at is not None:
            fix = room.created_at + timedelta(hours=_skewed(rng, fix_low, fix_high)) + seconds
            room.resolved_at = min(max(fix, room.first_response_at or fix), now)
        if rng.random() < 0.05:
            room.agent = ""  # picked from the queue, never assigned
        if room.resolved_at is None or rng.random() > 0.45:
            continue
        answered = min(room.resolved_at + timedelta(hours=rng.randint(1, 30)), now)
        if rng.random() < 0.65:
            score = rng.choices(range(11), weights=[1, 1, 1, 2, 2, 3, 4, 8, 14, 20, 18])[0]
            group = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            kind, comment = "nps", rng.choice(NPS_COMMENTS[group])
        else:
            score = rng.choices(range(1, 8), weights=[20, 25, 20, 12, 10, 8, 5])[0]
            kind, comment = "ces", rng.choice(CES_COMMENTS)
        surveys.append(
            SurveyResponse(
                external_id=f"{room.external_id.replace('-room-', '-sr-', 1)}",
                kind=kind,
                score=score,
                comment=comment,
                created_at=answered,
                chat_contact=room.chat_contact,
                # The conversation it rates (METRICS.md §L: its channel and agent carry it).
                chat_room=room,
            )
        )
    for contact in contacts:
        if rng.random() < 0.08:
            score = rng.choices(range(11), weights=[1, 1, 1, 2, 2, 3, 4, 8, 14, 20, 18])[0]
            group = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            surveys.append(
                SurveyResponse(
                    external_id=f"{contact.external_id}-sr",
                    kind="nps",
                    score=score,
                    comment=rng.choice(NPS_COMMENTS[group]),
                    created_at=min(contact.created_at + timedelta(days=rng.randint(1, 90)), now),
                    contact=contact,
                )
            )
    return surveys


@transaction.atomic
def _write(
    *, products, companies, contacts, chat_contacts, deals, items, rooms, today, surveys=()
) -> dict[str, int]:
    users = {}
    for username, first, last in REPS:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "is_staff": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users[username] = user
    # The default pipeline of deals' first data migration, made again where it was removed
    # (a database flushed after migrating, or stages deleted by hand): the demo's deals need it.
    for name, outcome, probability, order in DEMO_PIPELINE:
        if not PipelineStage.objects.filter(name__iexact=name).exists():
            PipelineStage.objects.create(
                name=name, outcome=outcome, default_win_probability=probability, order=order
            )
    stages = {stage.name: stage for stage in PipelineStage.objects.all()}
    reasons = {}
    for name, _ in LOST_REASONS:
        if name:
            reason = LostReason.objects.filter(name__iexact=name).first()
            reasons[name] = reason or LostReason.objects.create(name=name)
    for record in [*contacts, *deals]:
        record.owner = users[record.owner_username]
    for deal in deals:
        deal.stage = stages[deal.stage_name]
        deal.lost_reason = reasons.get(deal.lost_reason_name)

    # Children are written after their parents; bulk_create takes each parent's id from the
    # object assigned to the foreign key once _upsert has set it.
    _upsert(Product, products)
    _upsert(Company, companies)
    _upsert(Contact, contacts)
    _upsert(ChatContact, chat_contacts)
    _upsert(Deal, deals)
    history = _history_write(deals)
    # Items have no external id: a demo deal's items are replaced wholesale.
    DealItem.objects.filter(deal__external_id__startswith=PREFIX).delete()
    DealItem.objects.bulk_create(items, batch_size=2000)
    _upsert(ChatRoom, rooms)
    _upsert(SurveyResponse, list(surveys))
    levels = _service_levels_write(today=today)
    return {
        **levels,
        "products": len(products),
        "companies": len(companies),
        "contacts": len(contacts),
        "chat_contacts": len(chat_contacts),
        "deals": len(deals),
        "deal_changes": history,
        "deal_items": len(items),
        "chat_rooms": len(rooms),
        "survey_responses": len(surveys),
    }


# Service targets of the demo (METRICS.md §L): chat channels answer within minutes on the
# calendar, email within two business hours, every other channel by the default.
DEMO_TARGETS = (
    ("WhatsApp", 15 * 60, 24 * 3600, "calendar"),
    ("Live chat", 5 * 60, 8 * 3600, "calendar"),
    ("Email", 2 * 3600, 16 * 3600, "business"),
    ("", 3600, 2 * 24 * 3600, "business"),
)
# A few national holidays (the admin loads every one of this year and the next in one step).
DEMO_HOLIDAYS = (
    ((1, 1), "Tahun Baru Masehi"),
    ((5, 1), "Hari Buruh Internasional"),
    ((6, 1), "Hari Lahir Pancasila"),
    ((8, 17), "Hari Kemerdekaan Republik Indonesia"),
    ((12, 25), "Hari Raya Natal"),
)


def _service_levels_write(*, today: date) -> dict[str, int]:
    """Service targets and holidays of the demo; rows already there are left as they are."""
    for channel, first, resolution, clock in DEMO_TARGETS:
        ServiceTarget.objects.get_or_create(
            channel=channel,
            defaults={"first_response_s": first, "resolution_s": resolution, "clock": clock},
        )
    for year in (today.year - 1, today.year):
        for (month, day), name in DEMO_HOLIDAYS:
            Holiday.objects.get_or_create(date=date(year, month, day), defaults={"name": name})
    return {"service_targets": ServiceTarget.objects.count(), "holidays": Holiday.objects.count()}


# Bookkeeping the upsert must never overwrite (identity resolution owns it).
_KEEP = {"id", "external_id", "customer", "resolved_email_key", "resolved_phone_key"}


def _upsert(model: type[models.Model], objs: list[models.Model]) -> None:
    """Insert or update by external id, then drop demo rows this run no longer has."""
    fields = [f.name for f in model._meta.concrete_fields if f.name not in _KEEP]
    model._default_manager.bulk_create(
        objs,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["external_id"],
        update_fields=fields,
    )
    # PostgreSQL returns the ids of upserted rows, SQLite not always: read them back by key.
    ids = dict(
        model._default_manager.filter(external_id__startswith=PREFIX).values_list(
            "external_id", "pk"
        )
    )
    wanted = set()
    for obj in objs:
        obj.pk = ids[obj.external_id]
        wanted.add(obj.external_id)
    stale = [pk for external_id, pk in ids.items() if external_id not in wanted]
    if stale:
        model._default_manager.filter(pk__in=stale).delete()
