"""Time identity resolution at scale on a scratch PostgreSQL database (never a real one).

    createdb wawasan_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wawasan_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wawasan_bench \\
        .venv/bin/python -m bench.identity --records 1000000

Loads N CRM contacts and N chat contacts with COPY (people share phones and emails across
both; a few shop numbers and noreply addresses exceed the fan-out limit), then times a full
resolution, a full one over unchanged data, and an incremental one after editing 20 records.
It deletes every contact, chat contact and customer of the database first.
"""

import argparse
import io
import os
import random
import time
from datetime import UTC, datetime, timedelta

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000, help="CRM and chat each")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-full", action="store_true", help="only the incremental runs")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection, transaction

    from chats.models import ChatContact
    from customers.identity import snapshot_rebuild
    from customers.models import Contact

    assert connection.vendor == "postgresql", "the benchmark runs on PostgreSQL"
    if not args.skip_load:
        started = time.perf_counter()
        _load(connection, args.records)
        print(f"loaded {2 * args.records} records in {time.perf_counter() - started:.1f} s")

    def timed(label: str, **kwargs) -> None:
        started = time.perf_counter()
        with transaction.atomic():
            counts = snapshot_rebuild(**kwargs)
        print(f"{label}: {time.perf_counter() - started:.2f} s {counts}")

    if not args.skip_full:
        timed("full", full=True)
        timed("full, unchanged data", full=True)
    timed("incremental, nothing changed")
    rng = random.Random(7)
    n = args.records
    with transaction.atomic():
        for pk in rng.sample(range(1, n + 1), 10):
            contact = Contact.objects.get(pk=pk)
            contact.phone = f"0813{rng.randrange(10**8):08d}"
            contact.save()
        for pk in rng.sample(range(1, n + 1), 5):
            chat = ChatContact.objects.get(pk=pk)
            chat.email = f"person{rng.randrange(n)}@mail.id"
            chat.save()
        for i in range(5):
            Contact.objects.create(
                first_name=f"New{i}",
                email=f"person{rng.randrange(n)}@mail.id",
                created_at=datetime(2026, 6, 1, tzinfo=UTC),
            )
    timed("incremental after 20 edits")


def _load(connection, n: int) -> None:
    rng = random.Random(42)
    people = int(n * 0.7)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    with connection.cursor() as cur:
        cur.execute(
            "TRUNCATE customers_contact, chats_chatcontact, customers_customer, "
            "customers_customeralias, customers_placeholderkey, customers_identitychange, "
            "customers_matchrule RESTART IDENTITY CASCADE"
        )
        for table, channel in (("customers_contact", None), ("chats_chatcontact", "WhatsApp")):
            buf = io.StringIO()
            for i in range(1, n + 1):
                person = rng.randrange(people)
                phone = f"+62812{person:08d}" if rng.random() < 0.8 else ""
                email = f"person{person}@mail.id" if rng.random() < 0.6 else ""
                if rng.random() < 0.001:
                    email = "noreply@shop.id"
                if rng.random() < 0.001:
                    phone = "+622150000000"
                created = (t0 + timedelta(minutes=rng.randrange(1_000_000))).isoformat()
                if channel is None:
                    source = rng.choice(["", "Referral", "Ads", "Website"])
                    buf.write(
                        f"c-{i}\tAni{i}\tW\t{email}\t{phone}\t{email}\t{phone}\t{source}"
                        f"\t{created}\t{created}\t\t\n"
                    )
                else:
                    buf.write(
                        f"h-{i}\t{channel}\tBudi{i}\t{email}\t{phone}\t{email}\t{phone}"
                        f"\t{created}\t{created}\t\t\n"
                    )
            buf.seek(0)
            if channel is None:
                cols = (
                    "external_id, first_name, last_name, email, phone, email_key, phone_key, "
                    "source, created_at, updated_at, resolved_email_key, resolved_phone_key"
                )
            else:
                cols = (
                    "external_id, channel, name, email, phone, email_key, phone_key, "
                    "created_at, updated_at, resolved_email_key, resolved_phone_key"
                )
            with cur.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                while data := buf.read(1 << 20):
                    copy.write(data)
        cur.execute("ANALYZE customers_contact")
        cur.execute("ANALYZE chats_chatcontact")


if __name__ == "__main__":
    main()
