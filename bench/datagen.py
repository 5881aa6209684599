"""A synthetic data set shaped like a real Indonesian CRM + chat inbox, written fast.

Per person: about one CRM contact and one chat contact (the same phone or email spelt
differently: `0812-3456-7890`, `+62 812 3456 7890`, `6281234567890`; emails in mixed case),
about two deals and five chat rooms, over 18 months up to now. A few placeholder numbers and
emails are shared by more records than INSIGHTS_MAX_KEY_FANOUT, and some phones are junk.

Rows go straight into the real tables: PostgreSQL `COPY` (psycopg 3 `cursor.copy()`), or plain
INSERTs on SQLite for the tiny smoke test. Columns are generated with numpy a chunk of people at a
time, so memory stays bounded at a million people. Identity keys are stored like the models store
them: emails through `customers.keys.email_key`; phones are derived from the generated national
number (parsing two million spellings would dominate the run) and a sample of every chunk is
checked against `customers.keys.phone_key`, so a derivation bug fails loudly.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.db import connection, transaction

from customers.keys import email_key, phone_key

DAY = 86_400
HISTORY_DAYS = 548  # 18 months
SQLITE_MAX_PEOPLE = 5_000
PIPELINE = (  # name, outcome, default win probability, order: deals/migrations/0002
    ("Qualification", "open", 10, 10),
    ("Proposal", "open", 40, 20),
    ("Negotiation", "open", 70, 30),
    ("Won", "won", 100, 40),
    ("Lost", "lost", 0, 50),
)

FIRST_NAMES = (
    "Ani", "Budi", "Citra", "Dewi", "Eko", "Fajar", "Gita", "Hendra", "Indah", "Joko", "Kartika",
    "Lestari", "Made", "Nur", "Oki", "Putri", "Rina", "Sari", "Teguh", "Utami", "Wahyu", "Yuni",
)  # fmt: skip
LAST_NAMES = (
    "Wijaya", "Santoso", "Pratama", "Saputra", "Hidayat", "Kusuma", "Nugroho", "Lestari",
    "Siregar", "Simanjuntak", "Halim", "Gunawan", "Setiawan", "Rahman", "Tanjung", "Sutanto",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "yahoo.co.id", "outlook.com", "hotmail.com", "ymail.com")
MOBILE_PREFIXES = np.array(
    [811, 812, 813, 821, 822, 823, 851, 852, 853, 855, 856, 857, 858, 877, 878, 881, 895, 896]
)
PLACEHOLDER_PHONES = ("021-555-0100", "0800-000-0000", "+62 21 1500 888")
PLACEHOLDER_EMAILS = ("noreply@toko.example", "Customer@Shop.example", "tidak.ada@email.com")
JUNK_PHONES = ("-", "12345", "n/a", "0000", "+62", "tidak ada")
SOURCES = ("Referral", "Website", "Instagram Ads", "Walk-in", "Event", "email", "")
SOURCE_WEIGHTS = (0.2, 0.25, 0.15, 0.1, 0.05, 0.05, 0.2)
CHANNELS = ("WhatsApp", "Instagram", "Facebook", "Live chat", "Email", "Telegram", "LINE")
CHANNEL_WEIGHTS = (0.55, 0.15, 0.08, 0.1, 0.05, 0.04, 0.03)
PHONE_CHANNELS = frozenset({"WhatsApp", "Telegram", "LINE"})
EMAIL_CHANNELS = frozenset({"Live chat", "Email"})
LOST_REASONS = (
    "Price too high", "Chose a competitor", "No budget", "No response", "Bad timing",
    "Not a fit", "Harga terlalu mahal", "Stok habis", "Delivery too slow", "Payment failed",
    "Duplicate order", "Changed mind",
)  # fmt: skip
AGENTS = ("rani", "dimas", "ayu", "bayu", "sinta", "yoga", "")
# Sales reps owning deals (METRICS.md §O), the busiest first; one deal in ten has no owner.
SALES_REPS = tuple(f"bench-rep-{i:02d}" for i in range(1, 13))
REP_WEIGHTS = np.array([1.0 / (i + 2) for i in range(len(SALES_REPS))])
INDUSTRIES = ("Retail", "F&B", "Manufacturing", "Logistics", "Education", "Health", "")
PRODUCT_COUNT = 200
LOST_REASON_DEFAULT_SHARE = 0.88
# Places of CRM contacts (country, city): mostly Indonesian. 80% of contacts have a city, 70% a
# country; "Surabaya" is 1/8 of the cities, so the bench segment {"city": "Surabaya"} holds
# about 10% of the customers (100,000 at a million).
PLACES = (
    ("ID", "Jakarta"), ("ID", "Surabaya"), ("ID", "Bandung"), ("ID", "Medan"),
    ("ID", "Semarang"), ("ID", "Makassar"), ("ID", "Yogyakarta"), ("ID", "Denpasar"),
    ("ID", "Palembang"), ("SG", "Singapore"), ("MY", "Kuala Lumpur"), ("AU", "Perth"),
)  # fmt: skip
PLACE_WEIGHTS = (0.3, 0.125, 0.1, 0.08, 0.07, 0.06, 0.06, 0.05, 0.045, 0.05, 0.04, 0.02)
BENCH_SEGMENT_FILTERS = {"city": "Surabaya"}

COLUMNS: dict[str, tuple[str, ...]] = {
    "customers_company": ("id", "external_id", "name", "industry", "created_at"),
    "customers_contact": (
        "id", "external_id", "email", "phone", "email_key", "phone_key", "first_name",
        "last_name", "source", "created_at", "updated_at", "resolved_email_key",
        "resolved_phone_key", "company_id", "country", "city",
    ),
    "chats_chatcontact": (
        "id", "external_id", "email", "phone", "email_key", "phone_key", "channel", "name",
        "created_at", "updated_at", "resolved_email_key", "resolved_phone_key",
    ),
    "chats_chatroom": (
        "id", "external_id", "created_at", "resolved_at", "agent", "csat_score",
        "chat_contact_id", "first_response_at",
    ),
    "chats_surveyresponse": (
        "id", "external_id", "kind", "score", "comment", "created_at", "chat_contact_id",
        "contact_id", "chat_room_id",
    ),
    "deals_product": ("id", "external_id", "name", "sku", "price"),
    "deals_lostreason": ("id", "name"),
    "deals_deal": (
        "id", "external_id", "name", "win_probability", "amount", "currency", "created_at",
        "closed_at", "updated_at", "company_id", "contact_id", "lost_reason_id", "stage_id",
        "owner_id", "expected_close_at",
    ),
    "deals_dealitem": ("id", "quantity", "unit_price", "deal_id", "product_id"),
}  # fmt: skip
# Emptied before a run: the generated tables plus the snapshot built from them.
TRUNCATED = (*COLUMNS, "customers_customer", "customers_customeralias")


@dataclass
class _Counters:
    contact: int = 0
    chat_contact: int = 0
    deal: int = 0
    room: int = 0
    item: int = 0


@dataclass
class _Context:
    now: int
    start: int
    companies: int
    product_prices: np.ndarray
    product_weights: np.ndarray
    lost_reasons: int
    stage_ids: dict[str, int]
    currency: str
    timestamps: Callable[[np.ndarray], list]
    owner_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    counters: _Counters = field(default_factory=_Counters)


class _Sink:
    """Writes rows of one table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.rows: dict[str, int] = {}

    def write(self, table: str, rows: Iterable[Sequence]) -> None:
        columns = COLUMNS[table]
        count = 0
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                names = ", ".join(f'"{c}"' for c in columns)
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                batch = list(rows)
                count = len(batch)
                marks = ", ".join(["%s"] * len(columns))
                names = ", ".join(f'"{c}"' for c in columns)
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
        self.rows[table] = self.rows.get(table, 0) + count


def _pg_timestamps(values: np.ndarray) -> list:
    """Epoch seconds to text COPY parses in the UTC session; negative means NULL."""
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s").tolist()
    return [t if v >= 0 else None for t, v in zip(text, values.tolist(), strict=True)]


def _sqlite_timestamps(values: np.ndarray) -> list:
    return [None if t is None else t.replace("T", " ") for t in _pg_timestamps(values)]


def _spell_phone(nsn: str, style: int) -> str:
    """One of the ways people type the same mobile number (national significant number nsn)."""
    head, tail = nsn[:3], nsn[3:]
    if style == 0:
        return f"0{head}-{tail[:4]}-{tail[4:]}"
    if style == 1:
        return f"+62 {head} {tail[:4]} {tail[4:]}"
    if style == 2:
        return f"62{nsn}"
    if style == 3:
        return f"0{nsn}"
    return f"+62{nsn}"


def _spell_email(local: str, domain: str, style: int) -> str:
    if style == 0:
        return f"{local}@{domain}"
    if style == 1:
        return f"{local.capitalize()}@{domain.capitalize()}"
    if style == 2:
        return f"{local}@{domain}".upper()
    return f" {local}@{domain} "


def _identity_columns(
    *,
    rng: np.random.Generator,
    person: np.ndarray,
    nsn: list[str],
    local: list[str],
    domain: list[str],
    has_email: np.ndarray,
    has_phone: np.ndarray,
) -> tuple[list[str], list[str], list[str], list[str]]:
    """email, phone, email_key, phone_key of records belonging to `person` (chunk offsets)."""
    n = len(person)
    phone_style = rng.integers(0, 5, n).tolist()
    email_style = rng.integers(0, 4, n).tolist()
    oddity = rng.random((3, n))
    placeholder_phone = rng.integers(0, len(PLACEHOLDER_PHONES), n).tolist()
    placeholder_email = rng.integers(0, len(PLACEHOLDER_EMAILS), n).tolist()
    junk = rng.integers(0, len(JUNK_PHONES), n).tolist()
    emails, phones, email_keys, phone_keys = [], [], [], []
    for i, p in enumerate(person.tolist()):
        phone = phone_k = email = email_k = ""
        if has_phone[i]:
            if oddity[0, i] < 0.015:
                phone = PLACEHOLDER_PHONES[placeholder_phone[i]]
                phone_k = phone_key(phone)  # a tiny pool: lru_cached
            elif oddity[1, i] < 0.01:
                phone = JUNK_PHONES[junk[i]]
                phone_k = phone_key(phone)
            else:
                phone = _spell_phone(nsn[p], phone_style[i])
                phone_k = f"+62{nsn[p]}"
        if has_email[i]:
            if oddity[2, i] < 0.015:
                email = PLACEHOLDER_EMAILS[placeholder_email[i]]
            else:
                email = _spell_email(local[p], domain[p], email_style[i])
            email_k = email_key(email)
        emails.append(email)
        phones.append(phone)
        email_keys.append(email_k)
        phone_keys.append(phone_k)
    return emails, phones, email_keys, phone_keys


def _check_phone_keys(rng: np.random.Generator, phones: list[str], keys: list[str]) -> None:
    """The derived keys must be what customers.keys computes: check a sample of each chunk."""
    for i in rng.integers(0, len(phones), min(len(phones), 100)).tolist():
        if phone_key(phones[i]) != keys[i]:
            raise AssertionError(f"derived key {keys[i]!r} != phone_key({phones[i]!r})")


def _chunk(*, ctx: _Context, sink: _Sink, rng: np.random.Generator, p0: int, p1: int) -> None:
    n = p1 - p0
    c = ctx.counters
    pid = np.arange(p0, p1, dtype=np.int64)
    born = ctx.now - rng.integers(0, HISTORY_DAYS * DAY, n)
    prefix = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), n)].tolist()
    # A bijection of the person number onto 8 digits: every person has a distinct mobile number.
    suffix = ((pid * 7919 + 1_234_567) % 100_000_000).tolist()
    nsn = [f"{a}{b:08d}" for a, b in zip(prefix, suffix, strict=True)]
    first = rng.integers(0, len(FIRST_NAMES), n).tolist()
    last = rng.integers(0, len(LAST_NAMES), n).tolist()
    first_names = [FIRST_NAMES[i] for i in first]
    last_names = [LAST_NAMES[i] for i in last]
    local = [
        f"{FIRST_NAMES[a].lower()}.{LAST_NAMES[b].lower()}{p}"
        for a, b, p in zip(first, last, pid.tolist(), strict=True)
    ]
    domain = [EMAIL_DOMAINS[i] for i in rng.integers(0, len(EMAIL_DOMAINS), n).tolist()]
    ts = ctx.timestamps

    # CRM contacts: 97% of people have one, 3% a second (same phone, a work email).
    index = np.arange(n)
    extra = index[rng.random(n) < 0.03]
    crm_person = np.concatenate([index[rng.random(n) < 0.97], extra])
    m = len(crm_person)
    has_email = rng.random(m) < 0.85
    has_phone = (rng.random(m) < 0.85) | ~has_email
    emails, phones, ekeys, pkeys = _identity_columns(
        rng=rng, person=crm_person, nsn=nsn, local=local, domain=domain,
        has_email=has_email, has_phone=has_phone,
    )  # fmt: skip
    _check_phone_keys(rng, phones, pkeys)
    crm_created = np.minimum(born[crm_person] + rng.integers(0, 3 * DAY, m), ctx.now)
    crm_created[len(crm_person) - len(extra) :] += rng.integers(0, 60 * DAY, len(extra))
    crm_created = np.minimum(crm_created, ctx.now)
    crm_ids = np.arange(c.contact + 1, c.contact + 1 + m)
    c.contact += m
    company = np.where(rng.random(m) < 0.55, rng.integers(1, ctx.companies + 1, m), -1)
    source = rng.choice(len(SOURCES), m, p=SOURCE_WEIGHTS).tolist()
    # Places from their own stream, so every other column stays as earlier runs made it.
    place_rng = np.random.default_rng(p0 + 7919)
    place = place_rng.choice(len(PLACES), m, p=PLACE_WEIGHTS)
    roll = place_rng.random(m)
    pairs = list(zip(place.tolist(), roll.tolist(), strict=True))
    countries = [PLACES[x][0] if r < 0.7 else "" for x, r in pairs]
    cities = [PLACES[x][1] if r < 0.8 else "" for x, r in pairs]
    created_text = ts(crm_created)
    people = crm_person.tolist()
    sink.write(
        "customers_contact",
        zip(
            crm_ids.tolist(), [f"c-{i}" for i in crm_ids.tolist()], emails, phones, ekeys, pkeys,
            [first_names[p] for p in people], [last_names[p] for p in people],
            [SOURCES[s] for s in source], created_text, created_text,
            itertools.repeat(""), itertools.repeat(""),
            [x if x > 0 else None for x in company.tolist()], countries, cities,
            strict=False,
        ),
    )  # fmt: skip

    # Chat contacts: 90% of people have one, 10% a second channel.
    chat_person = np.concatenate([index[rng.random(n) < 0.9], index[rng.random(n) < 0.1]])
    k = len(chat_person)
    channel = rng.choice(len(CHANNELS), k, p=CHANNEL_WEIGHTS)
    names = [CHANNELS[i] for i in channel.tolist()]
    draw = rng.random((2, k))
    by_phone = np.isin(channel, [CHANNELS.index(x) for x in PHONE_CHANNELS])
    by_email = np.isin(channel, [CHANNELS.index(x) for x in EMAIL_CHANNELS])
    social = ~by_phone & ~by_email
    has_phone = by_phone | (by_email & (draw[0] < 0.2)) | (social & (draw[0] < 0.4))
    has_email = by_email | (social & (draw[1] < 0.2))
    emails, phones, ekeys, pkeys = _identity_columns(
        rng=rng, person=chat_person, nsn=nsn, local=local, domain=domain,
        has_email=has_email, has_phone=has_phone,
    )  # fmt: skip
    _check_phone_keys(rng, phones, pkeys)
    chat_created = born[chat_person] + rng.integers(-30 * DAY, 30 * DAY, k)
    chat_created = np.clip(chat_created, ctx.start, ctx.now)
    chat_ids = np.arange(c.chat_contact + 1, c.chat_contact + 1 + k)
    c.chat_contact += k
    created_text = ts(chat_created)
    display = [
        f"@{local[p].split('.')[0]}{p}" if s else f"{first_names[p]} {last_names[p]}"
        for p, s in zip(chat_person.tolist(), social.tolist(), strict=True)
    ]
    sink.write(
        "chats_chatcontact",
        zip(
            chat_ids.tolist(), [f"cc-{i}" for i in chat_ids.tolist()], emails, phones, ekeys,
            pkeys, names, display, created_text, created_text,
            itertools.repeat(""), itertools.repeat(""),
            strict=False,
        ),
    )  # fmt: skip

    # Chat rooms: about five per person, spread from the chat contact's creation to now.
    per = rng.poisson(5.0 * n / max(k, 1), k)
    owner = np.repeat(np.arange(k), per)
    r = len(owner)
    opened = chat_created[owner] + (rng.random(r) * (ctx.now - chat_created[owner])).astype(
        np.int64
    )
    resolved = np.where(rng.random(r) < 0.9, opened + rng.exponential(7200, r).astype(np.int64), -1)
    resolved = np.where(resolved > ctx.now, -1, resolved)
    csat = np.where(rng.random(r) < 0.4, rng.integers(1, 6, r), -1)
    room_ids = np.arange(c.room + 1, c.room + 1 + r)
    c.room += r
    # Service (issue 16), from a generator of its own so the rows after rooms stay the same:
    # first replies by channel (WhatsApp minutes, email hours), 5% never answered.
    srng = np.random.default_rng([p0, 16])
    reply_scale = np.select(
        [
            channel[owner] == CHANNELS.index("WhatsApp"),
            channel[owner] == CHANNELS.index("Email"),
        ],
        [300.0, 7200.0],
        900.0,
    )
    first = opened + srng.exponential(reply_scale).astype(np.int64)
    first = np.where((srng.random(r) < 0.95) & (first <= ctx.now), first, -1)
    sink.write(
        "chats_chatroom",
        zip(
            room_ids.tolist(), [f"r-{i}" for i in room_ids.tolist()], ts(opened), ts(resolved),
            [AGENTS[i] for i in rng.integers(0, len(AGENTS), r).tolist()],
            [x if x > 0 else None for x in csat.tolist()],
            chat_ids[owner].tolist(), ts(first),
            strict=True,
        ),
    )  # fmt: skip
    # Survey answers: about one resolved room in five, NPS twice as often as CES.
    asked = np.flatnonzero((resolved >= 0) & (srng.random(r) < 0.2))
    nps = srng.random(len(asked)) < 0.67
    score = np.where(nps, srng.integers(0, 11, len(asked)), srng.integers(1, 8, len(asked)))
    answered = np.minimum(resolved[asked] + srng.integers(600, 2 * DAY, len(asked)), ctx.now)
    sink.write(
        "chats_surveyresponse",
        zip(
            room_ids[asked].tolist(), [f"s-{i}" for i in room_ids[asked].tolist()],
            ["nps" if x else "ces" for x in nps.tolist()], score.tolist(),
            itertools.repeat(""), ts(answered), chat_ids[owner][asked].tolist(),
            itertools.repeat(None), room_ids[asked].tolist(),
            strict=False,
        ),
    )  # fmt: skip

    # Deals: about two per person on its CRM contacts, plus 2% without a contact.
    per = rng.poisson(2.0 * n / max(m, 1) * 0.98, m)
    owner = np.repeat(np.arange(m), per)
    orphans = rng.binomial(n, 0.02)
    d = len(owner) + orphans
    base = np.concatenate(
        [crm_created[owner], ctx.now - rng.integers(0, HISTORY_DAYS * DAY, orphans)]
    )
    created = base + (rng.random(d) * (ctx.now - base)).astype(np.int64)
    old = (ctx.now - created) > 45 * DAY
    u = rng.random(d)
    won = np.where(old, u < 0.42, u < 0.15)
    lost = ~won & np.where(old, u < 0.75, u < 0.25)
    stage = np.where(
        won,
        ctx.stage_ids["Won"],
        np.where(
            lost,
            ctx.stage_ids["Lost"],
            np.array([ctx.stage_ids[s] for s in ("Qualification", "Proposal", "Negotiation")])[
                rng.integers(0, 3, d)
            ],
        ),
    )
    # Open deals: mostly the stage's default probability; 1% marked 100 (won by probability).
    draw = rng.random(d)
    probability = np.where(
        won | lost,
        -1,
        np.where(draw < 0.01, 100, np.where(draw < 0.2, rng.integers(0, 10, d) * 10, -1)),
    )
    closed = created + rng.exponential(14 * DAY, d).astype(np.int64)
    closed = np.where((won | lost) & (closed <= ctx.now) & (rng.random(d) > 0.03), closed, -1)
    amount = np.maximum(np.round(rng.lognormal(np.log(2_500_000), 1.0, d), -3), 1000)
    reason = np.where(
        lost & (rng.random(d) < LOST_REASON_DEFAULT_SHARE),
        rng.integers(1, ctx.lost_reasons + 1, d),
        -1,
    )
    # Owners and expected close dates (issues 28, 29), from a generator of their own so the
    # rows above stay what they were: open deals mostly dated from 45 days overdue to 10 months
    # ahead, a fifth undated; closed deals keep the date they were expected on, or none.
    orng = np.random.default_rng([p0, 28])
    weights = REP_WEIGHTS / REP_WEIGHTS.sum()
    deal_owner = np.where(
        orng.random(d) < 0.9, ctx.owner_ids[orng.choice(len(ctx.owner_ids), d, p=weights)], -1
    )
    is_open = ~(won | lost)
    expected = np.where(
        is_open,
        ctx.now + orng.integers(-45 * DAY, 300 * DAY, d),
        created + orng.integers(7 * DAY, 60 * DAY, d),
    )
    expected = np.where(orng.random(d) < np.where(is_open, 0.8, 0.5), expected, -1)
    contact = np.concatenate([crm_ids[owner], np.full(orphans, -1)])
    deal_company = np.concatenate([company[owner], np.full(orphans, -1)])
    deal_ids = np.arange(c.deal + 1, c.deal + 1 + d)
    c.deal += d
    created_text = ts(created)
    sink.write(
        "deals_deal",
        zip(
            deal_ids.tolist(), [f"d-{i}" for i in deal_ids.tolist()],
            [f"Order {i}" for i in deal_ids.tolist()],
            [x if x >= 0 else None for x in probability.tolist()],
            [f"{int(a)}.00" for a in amount.tolist()], itertools.repeat(ctx.currency),
            created_text, ts(closed), created_text,
            [x if x > 0 else None for x in deal_company.tolist()],
            [x if x > 0 else None for x in contact.tolist()],
            [x if x > 0 else None for x in reason.tolist()],
            stage.tolist(), [x if x > 0 else None for x in deal_owner.tolist()], ts(expected),
            strict=False,
        ),
    )  # fmt: skip

    # Line items: one to three per deal, popular products more often.
    per = 1 + (rng.random(d) < 0.35) + (rng.random(d) < 0.1)
    deal_of = np.repeat(deal_ids, per)
    t = len(deal_of)
    product = rng.choice(PRODUCT_COUNT, t, p=ctx.product_weights)
    quantity = rng.integers(1, 6, t)
    price = ctx.product_prices[product] * np.where(rng.random(t) < 0.1, 0.9, 1.0)
    item_ids = np.arange(c.item + 1, c.item + 1 + t)
    c.item += t
    sink.write(
        "deals_dealitem",
        zip(
            item_ids.tolist(), [f"{q}.00" for q in quantity.tolist()],
            [f"{int(x)}.00" for x in np.round(price, -2).tolist()],
            deal_of.tolist(), (product + 1).tolist(),
            strict=True,
        ),
    )  # fmt: skip


def _truncate() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(TRUNCATED)} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(TRUNCATED):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - names are constants
            marks = ", ".join(["%s"] * len(TRUNCATED))
            cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", TRUNCATED)


def _stage_ids() -> dict[str, int]:
    """The five default stages (deals migration 0002), created if a flush removed them."""
    from deals.models import PipelineStage

    ids = {}
    for name, outcome, probability, order in PIPELINE:
        stage, _ = PipelineStage.objects.get_or_create(
            name=name,
            defaults={"outcome": outcome, "default_win_probability": probability, "order": order},
        )
        ids[name] = stage.pk
    return ids


def _sales_reps_and_targets(*, now: int) -> np.ndarray:
    """The sales reps, each month's targets from the history's start to a year ahead, and two
    service targets: what issues 28-30 read, written through the ORM (a few hundred rows)."""
    from django.contrib.auth import get_user_model

    from chats.models import ServiceTarget
    from deals.models import SalesTarget

    user = get_user_model()
    reps = [user.objects.get_or_create(username=name)[0] for name in SALES_REPS]
    SalesTarget.objects.filter(owner__in=reps).delete()
    SalesTarget.objects.filter(owner__isnull=True).delete()
    today = datetime.fromtimestamp(now, UTC).date()
    first = today.replace(day=1)
    months = []
    year, month = first.year, first.month
    for _ in range(HISTORY_DAYS // 30 + 2):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    for _ in range(HISTORY_DAYS // 30 + 14):
        months.append(first.replace(year=year, month=month))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    targets = [
        SalesTarget(owner=rep, month=day, amount=(len(SALES_REPS) - rank) * 40_000_000)
        for rank, rep in enumerate(reps)
        for day in months
    ] + [SalesTarget(owner=None, month=day, amount=3_000_000_000) for day in months]
    SalesTarget.objects.bulk_create(targets)
    ServiceTarget.objects.update_or_create(
        channel="",
        defaults={"first_response_s": 3600, "resolution_s": 8 * 3600, "clock": "business"},
    )
    ServiceTarget.objects.update_or_create(
        channel="WhatsApp",
        defaults={"first_response_s": 900, "resolution_s": 4 * 3600, "clock": "calendar"},
    )
    return np.array([rep.pk for rep in reps], dtype=np.int64)


def _catalogues(*, ctx: _Context, sink: _Sink, rng: np.random.Generator) -> None:
    sink.write(
        "customers_company",
        (
            (i, f"co-{i}", f"PT {LAST_NAMES[i % len(LAST_NAMES)]} {i}",
             INDUSTRIES[i % len(INDUSTRIES)], ctx.timestamps(np.array([ctx.start]))[0])
            for i in range(1, ctx.companies + 1)
        ),
    )  # fmt: skip
    sink.write(
        "deals_product",
        (
            (i + 1, f"p-{i + 1}", f"Product {i + 1:03d}", f"SKU-{i + 1:04d}", f"{int(p)}.00")
            for i, p in enumerate(ctx.product_prices.tolist())
        ),
    )
    sink.write("deals_lostreason", ((i + 1, name) for i, name in enumerate(LOST_REASONS)))


def _drop_secondary_indexes() -> list[str]:
    """Drop the loaded tables' indexes but the primary keys; return the SQL that rebuilds them.

    Building an index once over the loaded rows is several times faster than updating it row by
    row during COPY (random keys like email_key touch a different page for every row).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),
                i.indrelid::regclass::text, quote_ident(c.conname), pg_get_constraintdef(c.oid)
            FROM pg_index i
            LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u'
                AND c.conrelid = i.indrelid
            WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
            """,
            [list(COLUMNS)],
        )
        found = cursor.fetchall()
        rebuild = []
        for index, index_sql, table, constraint, constraint_sql in found:
            if constraint:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")
                rebuild.append(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} {constraint_sql}")
            else:
                cursor.execute(f"DROP INDEX {index}")
                rebuild.append(index_sql)
    return rebuild


def _finish_postgresql() -> None:
    """Identity sequences past the explicit ids, and fresh planner statistics."""
    with connection.cursor() as cursor:
        for table in COLUMNS:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE(MAX(id), 0) + 1, false) FROM {table}"
            )
        cursor.execute(f"ANALYZE {', '.join(COLUMNS)}")


def dataset_generate(
    *,
    people: int,
    seed: int = 7,
    now: datetime | None = None,
    chunk_people: int = 25_000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int | float]:
    """Empty the CRM, chat and deal tables (and the snapshot) and fill them for `people` people.

    Returns the rows written per table and the seconds taken. Deterministic for a seed and `now`.
    """
    from django.conf import settings

    vendor = connection.vendor
    if vendor != "postgresql" and people > SQLITE_MAX_PEOPLE:
        raise ValueError(
            f"{vendor} is for smoke runs only (at most {SQLITE_MAX_PEOPLE} people): "
            "use PostgreSQL (DATABASE_URL=postgres://...) for a benchmark"
        )
    began = time.perf_counter()
    now_ts = int((now or datetime.now(UTC)).timestamp())
    rng = np.random.default_rng([seed, 0])
    weights = 1.0 / np.arange(1, PRODUCT_COUNT + 1) ** 0.8
    sink = _Sink()
    with transaction.atomic():
        _truncate()
        ctx = _Context(
            now=now_ts,
            start=now_ts - HISTORY_DAYS * DAY,
            companies=max(20, people // 40),
            product_prices=np.round(rng.lognormal(np.log(400_000), 0.9, PRODUCT_COUNT), -3),
            product_weights=weights / weights.sum(),
            lost_reasons=len(LOST_REASONS),
            stage_ids=_stage_ids(),
            currency=settings.INSIGHTS_CURRENCY,
            timestamps=_pg_timestamps if vendor == "postgresql" else _sqlite_timestamps,
            owner_ids=_sales_reps_and_targets(now=now_ts),
        )
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                # Timestamps are written as UTC text; the generated ids are consistent by
                # construction, so the per-row FK triggers (deferred to commit) are skipped.
                cursor.execute("SET LOCAL TIME ZONE 'UTC'")
                try:
                    with transaction.atomic():
                        cursor.execute("SET LOCAL session_replication_role = replica")
                except Exception:  # noqa: BLE001 - not a superuser: keep the FK checks
                    pass
        rebuild_indexes = _drop_secondary_indexes() if vendor == "postgresql" else []
        _catalogues(ctx=ctx, sink=sink, rng=rng)
        for number, p0 in enumerate(range(0, people, chunk_people), start=1):
            p1 = min(people, p0 + chunk_people)
            _chunk(ctx=ctx, sink=sink, rng=np.random.default_rng([seed, number]), p0=p0, p1=p1)
            if progress:
                progress(p1, people)
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                for statement in rebuild_indexes:
                    cursor.execute(statement)
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    if vendor == "postgresql":
        _finish_postgresql()
    return {**sink.rows, "seconds": round(time.perf_counter() - began, 2)}
