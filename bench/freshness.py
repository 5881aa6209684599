"""How long a deal saved like the admin saves it takes to reach the figures (issue 19).

    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 DATABASE_URL=... \\
        python -m bench.freshness [--delay 30] [--timeout 600]

Starts one Celery worker (as production runs it), saves one won deal through the ORM (its
post_save queues the debounced rebuild after the commit, insights.freshness), and reads
today's won revenue through insights.queries every second, as the dashboard does, until the
new deal is counted. Prints the seconds from the save to the first read that counts it, and
the rebuild run that made it visible.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=int, default=30, help="INSIGHTS_REBUILD_AFTER_CHANGES_S")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    if not os.environ.get("CELERY_BROKER_URL"):
        sys.exit("set CELERY_BROKER_URL (a Redis URL): the rebuild runs on a real worker")
    os.environ["INSIGHTS_REBUILD_AFTER_CHANGES_S"] = str(args.delay)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction

    from customers.models import Contact
    from deals.models import Deal, PipelineStage
    from insights import queries
    from insights.current_run import latest_succeeded_run
    from insights.periods import Period, local_today

    worker = subprocess.Popen(  # noqa: S603 - our own Celery app
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "1", "--loglevel=WARNING"],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        time.sleep(8)  # the worker connects to Redis and the database
        today = Period(local_today(), local_today())
        before = queries.revenue_kpis(period=today).revenue
        run_before = latest_succeeded_run()[0]
        amount = Decimal("123457.89")
        contact = Contact.objects.exclude(customer=None).order_by("-id").first()
        won = PipelineStage.objects.filter(outcome="won").order_by("id").first()
        saved = time.monotonic()
        with transaction.atomic():
            Deal.objects.create(
                external_id=f"freshness-{int(time.time())}",
                name="Freshness probe",
                contact=contact,
                stage=won,
                amount=amount,
                created_at=datetime.now(UTC),
                closed_at=datetime.now(UTC),
            )
        while time.monotonic() - saved < args.timeout:
            time.sleep(1)
            run_id = latest_succeeded_run()[0]
            if run_id == run_before:
                continue
            now = queries.revenue_kpis(period=today).revenue
            if now - before >= amount:
                print(f"counted after {time.monotonic() - saved:.1f} s (run {run_id}, delay "
                      f"{args.delay} s; revenue today {before} -> {now})")  # fmt: skip
                return
        print(f"not counted within {args.timeout:.0f} s")
    finally:
        worker.terminate()  # a warm shutdown lets the cache warm-up finish first
        try:
            worker.wait(timeout=300)
        except subprocess.TimeoutExpired:
            worker.kill()


if __name__ == "__main__":
    main()
