"""Issue 13 item 4: the largest line item the import accepts cannot stop a rebuild."""

from decimal import Decimal

import pytest
from django.db import connection

from insights import queries
from insights.models import RebuildRun
from tests.factories import DealItemFactory, ProductFactory
from tests.insights.build import customer, deal, period, rebuild

pytestmark = pytest.mark.django_db


def test_the_largest_accepted_line_items_rebuild_and_sum_exactly():
    # given: two lines at the import's bounds (quantity < 10^6, unit price < 10^12) on one day;
    # each is ~10^22 in the rollup's 1/10000 unit, past bigint (once "bigint out of range")
    product = ProductFactory(name="Mesin")
    won = deal(customer("2026-01-05"), created="2026-01-06", closed="2026-01-07", outcome="won")
    for _ in range(2):
        DealItemFactory(
            deal=won,
            product=product,
            quantity=Decimal("999999.99"),
            unit_price=Decimal("999999999999.99"),
        )

    # when
    run = rebuild()

    # then: 2 x (10^6 - 0.01)(10^12 - 0.01) = 1999999979999980000.0002
    assert run.status == RebuildRun.Status.SUCCEEDED
    [row] = queries.top_products(period=period("2026-01-01", "2026-01-31"))
    assert (row.product, row.won_deals, row.quantity) == ("Mesin", 1, Decimal("1999999.98"))
    if connection.vendor == "postgresql":  # NUMERIC: exact to the cent
        assert row.revenue == Decimal("1999999979999980000.00")
    else:  # SQLite holds a sum past 64 bits as REAL: within a millionth of a cent per unit
        assert abs(row.revenue - Decimal("1999999979999980000.00")) / row.revenue < Decimal("1e-12")
