"""The dashboard's at-risk drill-down on the admin customer list: P(alive) < 0.5 as of the
last rebuild, largest lifetime revenue first."""

from decimal import Decimal

import pytest

from customers.models import Customer
from insights.models import CustomerStats, CustomerValue
from tests.factories import T0

pytestmark = pytest.mark.django_db
LIST = "/admin/customers/customer/"


def _customer(name: str, *, p_alive: float | None, revenue: str) -> Customer:
    customer = Customer.objects.create(
        display_name=name, first_seen_at=T0, first_seen_date=T0.date()
    )
    CustomerStats.objects.create(customer=customer, lifetime_revenue=Decimal(revenue))
    if p_alive is not None:
        CustomerValue.objects.create(
            customer=customer, p_alive=p_alive, expected_purchases=0.5,
            expected_value=Decimal("10"), predicted_clv=Decimal("5"),
        )  # fmt: skip
    return customer


def test_at_risk_lists_low_p_alive_largest_revenue_first(admin_client):
    # given
    small = _customer("small", p_alive=0.2, revenue="100.00")
    big = _customer("big", p_alive=0.49, revenue="900.00")
    _customer("alive", p_alive=0.5, revenue="5000.00")  # 0.5 is not below 0.5
    _customer("never bought", p_alive=None, revenue="0.00")
    # when
    response = admin_client.get(LIST, {"value": "at_risk"})
    # then
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [big.pk, small.pk]
