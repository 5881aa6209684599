"""Entering deals by hand: the amount offered from the line items, the unit price from the
product, and a warning when a deal's amount and its items disagree."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils.formats import number_format

from .models import Deal, DealItem, Product


def deal_items_total(*, deal: Deal) -> Decimal | None:
    """Sum of quantity × unit price over the deal's items (one query); None without items."""
    line = ExpressionWrapper(
        F("quantity") * F("unit_price"), output_field=DecimalField(max_digits=32, decimal_places=4)
    )
    total = DealItem.objects.filter(deal=deal).aggregate(total=Sum(line))["total"]
    return None if total is None else Decimal(total).quantize(Decimal("0.01"))


def item_unit_price(*, product: Product | None, unit_price: Decimal | None) -> Decimal | None:
    """The unit price as typed, else the product's list price (None when neither is known)."""
    if unit_price is not None:
        return unit_price
    return product.price if product is not None else None


def deal_amount_mismatch(*, deal: Deal) -> tuple[Decimal, Decimal] | None:
    """(amount, items total) when the deal has items whose total is not its amount."""
    total = deal_items_total(deal=deal)
    if total is None or total == deal.amount:
        return None
    return deal.amount, total


# Shown without cents, like the dashboard (the rupiah has none in daily use).
WHOLE_CURRENCIES = frozenset({"IDR", "JPY", "KRW", "VND", "CLP", "ISK"})


def deal_amount_display(amount: Decimal | None, currency: str | None = None) -> str:
    """'IDR 157,250,000' / 'IDR 157.250.000' in the active language; cents only where used."""
    if amount is None:
        return "–"
    currency = currency or settings.INSIGHTS_CURRENCY
    places = 0 if currency in WHOLE_CURRENCIES else 2
    number = number_format(amount, decimal_pos=places, use_l10n=True, force_grouping=True)
    return f"{currency}\u00a0{number}"
