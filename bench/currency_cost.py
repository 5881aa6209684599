"""Round six: what converting deals into the base currency costs the deal-facts phase (§3).

On a scratch database only (it deletes every deal and exchange rate), e.g.:
    python manage.py shell -c "exec(open('bench/currency_cost.py').read())"
"""

import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import transaction

from deals.models import Deal, ExchangeRate, PipelineStage
from insights import rollup
from insights.engine import db

DEALS = 50_000
rng = random.Random(1)


def deals_write(*, foreign: bool) -> None:
    Deal.objects.all().delete()
    first = datetime(2024, 1, 2, tzinfo=UTC)
    rows = []
    for n in range(DEALS):
        other = foreign and rng.random() < 0.3
        rows.append(
            Deal(
                external_id=f"b{n}",
                stage=stage,
                amount=Decimal(rng.randrange(1, 10**7)) / 100,
                currency=rng.choice(["USD", "SGD", "EUR", "JPY"]) if other else "IDR",
                created_at=first + timedelta(minutes=rng.randrange(0, 700 * 1440)),
            )
        )
    Deal.objects.bulk_create(rows, batch_size=5000)


Deal.objects.all().delete()
ExchangeRate.objects.all().delete()
stage = PipelineStage.objects.get_or_create(
    name="Won bench", defaults={"outcome": "won", "default_win_probability": 100}
)[0]
start = date(2024, 1, 1)
ExchangeRate.objects.bulk_create(
    [
        ExchangeRate(currency=code, date=start + timedelta(days=d), rate=Decimal("15000.5") + d)
        for code in ("USD", "SGD", "EUR")
        for d in range(730)
    ]
)
for foreign in (False, True):
    deals_write(foreign=foreign)
    times = []
    for _ in range(3):
        with transaction.atomic():
            db.execute(f"DELETE FROM {rollup.T_FACT}")
            began = time.monotonic()
            facts = rollup.rollup_deal_facts()
            times.append(time.monotonic() - began)
    label = "30% foreign" if foreign else "all IDR"
    print(f"{label}: {DEALS} deals, {facts} facts, deal_facts best of 3: {min(times):.3f} s")
Deal.objects.all().delete()
ExchangeRate.objects.all().delete()
