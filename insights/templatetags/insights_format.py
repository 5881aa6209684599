"""Template filters for the insights pages: money in the reader's language.

Bahasa Indonesia writes rupiah as `Rp30.000.000` (dots group thousands, no decimals for whole
amounts); English as `IDR 30,000,000`. Formatted here rather than through Django's l10n so the
currency symbol and the "no decimals when whole" rule are the same on every page and in tests.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.translation import get_language

register = template.Library()

# Symbols written before the amount with no space, per language; other currencies use their
# ISO code followed by a space.
_SYMBOLS = {"id": {"IDR": "Rp"}}
_CENT = Decimal("0.01")


def money_format(value: object, *, currency: str | None = None, language: str | None = None) -> str:
    """`value` as an amount of `currency` (default settings.INSIGHTS_CURRENCY) for `language`."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    currency = currency or settings.INSIGHTS_CURRENCY
    language = (language or get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole, cents = f"{amount:.2f}".split(".")
    grouped = f"{int(whole):,}"
    if language == "id":
        number = grouped.replace(",", ".")
        number = number if cents == "00" else f"{number},{cents}"
        symbol = _SYMBOLS["id"].get(currency)
        return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"
    number = grouped if cents == "00" else f"{grouped}.{cents}"
    return f"{sign}{currency} {number}"


@register.filter(name="money")
def money(value: object, currency: str | None = None) -> str:
    return money_format(value, currency=currency or None)
