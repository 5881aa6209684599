"""The exchange-rate admin, the deal form's currency check and the "no exchange rate" list."""

import pytest
from django.contrib.auth.models import Group

from deals.models import ExchangeRate
from tests.factories import DealFactory, UserFactory
from tests.insights.build import at, stage

pytestmark = pytest.mark.django_db


def _manager(client):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Sales manager"))
    client.force_login(user)
    return user


def test_the_deal_form_upper_cases_and_validates_the_currency(client):
    _manager(client)
    deal = DealFactory(stage=stage("won"), currency="IDR", closed_at=at("2026-01-10"))
    url = f"/admin/deals/deal/{deal.pk}/change/"
    form = {
        "name": deal.name, "external_id": deal.external_id, "stage": deal.stage_id,
        "created_at_0": "2026-01-02", "created_at_1": "10:00:00",
        "closed_at_0": "2026-01-10", "closed_at_1": "10:00:00",
        "amount": "10.00", "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0",
    }  # fmt: skip
    bad = client.post(url, {**form, "currency": "U$"})
    good = client.post(url, {**form, "currency": "usd"})
    assert bad.status_code == 200 and "is not a currency code" in bad.content.decode()
    assert good.status_code == 302
    deal.refresh_from_db()
    assert deal.currency == "USD"


def test_exchange_rates_are_managed_in_the_admin(client):
    _manager(client)
    response = client.post(
        "/admin/deals/exchangerate/add/", {"currency": "sgd", "date": "2026-01-01", "rate": "1.5"}
    )
    refused = client.post(
        "/admin/deals/exchangerate/add/", {"currency": "SG", "date": "2026-01-01", "rate": "1"}
    )
    assert response.status_code == 302
    assert ExchangeRate.objects.get().currency == "SGD"
    assert refused.status_code == 200 and ExchangeRate.objects.count() == 1


def test_deals_without_a_rate_are_listed_as_a_data_problem(client):
    manager = _manager(client)
    rep = UserFactory(is_staff=True)
    rep.groups.add(Group.objects.get(name="Sales rep"))
    mine = DealFactory(owner=rep, currency="EUR", stage=stage("won"), closed_at=at("2026-01-10"))
    other = DealFactory(owner=manager, currency="EUR", stage=stage("won"))
    DealFactory(currency="IDR")
    listing = client.get("/admin/deals/dealwithoutrate/")
    client.force_login(rep)
    own = client.get("/admin/deals/dealwithoutrate/")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    assert "no exchange rate" in listing.content.decode()
    assert [d.pk for d in own.context["cl"].result_list] == [mine.pk]
    assert other.pk not in [d.pk for d in own.context["cl"].result_list]
