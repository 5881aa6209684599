"""Currency codes and the exchange-rate rule of METRICS.md §3, for one deal or as a list.

Figures are in the base currency (settings.INSIGHTS_CURRENCY). A deal in another currency is
converted at the rate of its currency with the latest date on or before its close date (an open
deal: on or before today); a deal whose currency has no such rate is left out of every figure
and listed as a data problem ("no exchange rate"). The rollup writes the same rule in SQL
(insights.rollup.rollup_deal_facts); `deals_without_rate` is its ORM form for the list, and
tests/insights/test_currency.py checks that both agree.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Trim, TruncDate, Upper
from django.utils.translation import gettext_lazy as _

from . import rules

NO_EXCHANGE_RATE = _("no exchange rate")  # the data problem's name
_CODE = re.compile(r"[A-Z]{3}")
CENT = Decimal("0.01")


def base_currency() -> str:
    return settings.INSIGHTS_CURRENCY.strip().upper()


def currency_normalize(code: str | None) -> str:
    """The stored form of a currency code: trimmed and upper-cased (blank stays blank)."""
    return (code or "").strip().upper()


def currency_code_valid(code: str) -> bool:
    """An ISO 4217 alphabetic code's shape: three letters A-Z, once normalised."""
    return bool(_CODE.fullmatch(currency_normalize(code)))


def is_base(code: str | None) -> bool:
    """A blank currency, or the base currency in any letter case, is the base currency."""
    normal = currency_normalize(code)
    return normal == "" or normal == base_currency()


def converted(amount: Decimal, rate: Decimal) -> Decimal:
    """amount × rate, rounded to 2 decimals half away from zero (ROUND_HALF_UP on Decimals)."""
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def deals_without_rate(queryset: QuerySet, *, today: date) -> QuerySet:
    """The deals of `queryset` (deals.Deal) whose currency has no rate for their rate date.

    The rate date is the local date of closed_at, else of created_at; an open deal's is today.
    """
    from .models import ExchangeRate

    base = base_currency()
    close_date = TruncDate(Coalesce("closed_at", "created_at"))
    queryset = queryset.annotate(w_currency=Upper(Trim("currency")))
    foreign = ~Q(w_currency="") & ~Q(w_currency=base)
    rates = ExchangeRate.objects.filter(currency=OuterRef("w_currency"))
    closed_rate = Exists(rates.filter(date__lte=OuterRef("w_close_date")))
    open_rate = Exists(rates.filter(date__lte=today))
    return (
        queryset.annotate(w_close_date=close_date)
        .filter(foreign)
        .filter(
            (rules.open_q() & ~open_rate) | (~rules.open_q() & ~closed_rate),
        )
    )
