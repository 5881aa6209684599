"""Pipeline and forecast (issue 28) at a small scale: what the forecast and the deal history
cost. Run on PostgreSQL after `seed_demo` and `rebuild_insights`:

    DEBUG=True DATABASE_URL=postgres://... .venv/bin/python manage.py shell -c \
        "from bench.forecast_bench import main; main()"

Prints, per preset, the uncached forecast (figure cache cleared, the backtest included on the
first one) and the cached read's p50/p95 over 50 reads; then the deal-history triggers' cost
on one UPDATE of every deal's amount (rolled back), with the triggers on and off.
"""

from __future__ import annotations

import statistics
import time

from django.db import connection, transaction

from deals.models import Deal, DealChange
from insights import forecast
from insights.models import FigureCache
from insights.periods import preset_period

PRESETS = ("tomorrow", "next_7_days", "next_30_days", "next_week", "next_month",
           "next_quarter", "next_year", "this_month", "last_30_days")  # fmt: skip


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _update_all(triggers: bool) -> float:
    table = Deal._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            if not triggers:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER deals_history_upd")
            started = time.perf_counter()
            cursor.execute(f"UPDATE {table} SET amount = amount + 1")
            elapsed = _ms(started)
        transaction.set_rollback(True)
    return elapsed


def main() -> None:
    print(f"deals {Deal.objects.count()}, history rows {DealChange.objects.count()}")
    FigureCache.objects.filter(key__contains="|forecast").delete()
    for name in PRESETS:
        period = preset_period(name)
        started = time.perf_counter()
        forecast.forecast(period=period)
        cold = _ms(started)
        reads = []
        for _ in range(50):
            started = time.perf_counter()
            forecast.forecast(period=period)
            reads.append(_ms(started))
        reads.sort()
        print(
            f"{name:14} uncached {cold:8.1f} ms  cached p50 {statistics.median(reads):6.2f} ms"
            f"  p95 {reads[int(0.95 * len(reads)) - 1]:6.2f} ms"
        )
    with_triggers = min(_update_all(True) for _ in range(3))
    without = min(_update_all(False) for _ in range(3))
    print(
        f"UPDATE every deal's amount: {with_triggers:.1f} ms with the history trigger, "
        f"{without:.1f} ms without"
    )
