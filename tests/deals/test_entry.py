"""Entering a deal: amount from the items, unit price from the product, a warning on a
mismatch, amounts without cents in the list, and a contact picker that tells people apart."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from deals.models import Deal
from tests.deals.test_admin import deal_form
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    ProductFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _items(*rows: tuple[int, str, str]) -> dict[str, str]:
    data = {"items-TOTAL_FORMS": str(len(rows))}
    for n, (product, quantity, price) in enumerate(rows):
        data.update(
            {
                f"items-{n}-product": str(product),
                f"items-{n}-quantity": quantity,
                f"items-{n}-unit_price": price,
            }
        )
    return data


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_empty_amount_is_taken_from_the_items_and_price_from_the_product(admin_client):
    # given
    deal = DealFactory(amount=Decimal("1.00"))
    paket = ProductFactory(price=Decimal("25000000.00"))
    tambahan = ProductFactory(price=Decimal("500000.00"))

    # when: the amount left empty, the second line's unit price too
    response = admin_client.post(
        f"/admin/deals/deal/{deal.pk}/change/",
        deal_form(deal, amount="", **_items((paket.pk, "3", "25000000"), (tambahan.pk, "2", ""))),
        follow=True,
    )

    # then: 3 × 25,000,000 + 2 × 500,000
    deal.refresh_from_db()
    assert deal.amount == Decimal("76000000.00")
    prices = sorted(deal.items.values_list("unit_price", flat=True))
    assert prices == [Decimal("500000.00"), Decimal("25000000.00")]
    assert any("taken from the line items" in m for m in _messages(response))


def test_an_amount_that_differs_from_the_items_is_saved_with_a_warning(admin_client):
    # given
    deal = DealFactory()
    product = ProductFactory(price=Decimal("75000000.00"))

    # when: IDR 1,000 against IDR 75 M of items
    response = admin_client.post(
        f"/admin/deals/deal/{deal.pk}/change/",
        deal_form(deal, amount="1000", **_items((product.pk, "1", ""))),
        follow=True,
    )

    # then
    deal.refresh_from_db()
    assert deal.amount == Decimal("1000.00")
    warnings = [m for m in _messages(response) if "differs from the total" in m]
    assert warnings == [
        "The amount (IDR\u00a01,000) differs from the total of the line items "
        "(IDR\u00a075,000,000). Check which is right."
    ]


def test_a_product_without_price_needs_a_unit_price(admin_client):
    # given
    deal = DealFactory()
    product = ProductFactory(price=None)

    # when
    response = admin_client.post(
        f"/admin/deals/deal/{deal.pk}/change/",
        deal_form(deal, **_items((product.pk, "1", ""))),
    )

    # then
    assert response.status_code == 200
    assert "The product has no price: enter the unit price." in response.content.decode()


def test_deal_list_shows_amounts_without_cents_with_separators(admin_client):
    # given
    DealFactory(amount=Decimal("157250000.00"), currency="IDR")

    # when
    html = admin_client.get("/admin/deals/deal/").content.decode()

    # then
    assert "IDR\u00a0157,250,000" in html
    assert "157250000.00" not in html


def test_contact_picker_tells_namesakes_apart_and_masks_for_those_without_access(client):
    # given: three Andi Nasution
    company = CompanyFactory(name="PT Maju")
    for phone, email, with_company in (
        ("+6281234567890", "", True),
        ("", "andi@x.id", False),
        ("+6281399998888", "", False),
    ):
        ContactFactory(
            first_name="Andi",
            last_name="Nasution",
            phone=phone,
            email=email,
            company=company if with_company else None,
        )
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="change_deal"),
        Permission.objects.get(codename="view_contact"),
        Permission.objects.get(codename="view_all_records"),
    )
    client.force_login(user)
    url = "/admin/autocomplete/"
    query = {"term": "Andi", "app_label": "deals", "model_name": "deal", "field_name": "contact"}

    # when
    masked = client.get(url, query).json()["results"]
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    user = type(user).objects.get(pk=user.pk)
    client.force_login(user)
    full = client.get(url, query).json()["results"]

    # then
    assert sorted(r["text"] for r in masked) == [
        "Andi Nasution · +62 813 **** 8888",
        "Andi Nasution · PT Maju · +62 812 **** 7890",
        "Andi Nasution · a***@x.id",
    ]
    assert sorted(r["text"] for r in full) == [
        "Andi Nasution · +6281399998888",
        "Andi Nasution · PT Maju · +6281234567890",
        "Andi Nasution · andi@x.id",
    ]
    assert len({r["text"] for r in masked}) == 3
    assert Deal.objects.count() == 0
