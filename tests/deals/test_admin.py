from decimal import Decimal

import pytest

from deals.models import Deal, LostReason
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    DealItemFactory,
    LostReasonFactory,
    ProductFactory,
    StageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def deal_form(deal: Deal, **changes) -> dict:
    data = {
        "name": deal.name,
        "external_id": deal.external_id or "",
        "stage": deal.stage_id,
        "amount": str(deal.amount),
        "currency": deal.currency,
        "created_at_0": "2026-01-15",
        "created_at_1": "10:00:00",
        "closed_at_0": "",
        "closed_at_1": "",
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_deal_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    # given
    for n in range(8):
        DealFactory(
            contact=ContactFactory(),
            company=CompanyFactory(),
            owner=UserFactory(),
            stage=StageFactory(name=f"Stage {n % 3}"),
            lost_reason=LostReasonFactory(name=f"Reason {n % 2}"),
        )

    # when
    with django_assert_max_num_queries(16):
        response = admin_client.get("/admin/deals/deal/")

    # then
    assert response.status_code == 200
    assert response.context["cl"].result_count == 8


def test_deal_change_page_with_items_loads(admin_client, django_assert_max_num_queries):
    # given
    deal = DealFactory()
    for _ in range(5):
        DealItemFactory(deal=deal, product=ProductFactory())

    # when
    with django_assert_max_num_queries(25):
        response = admin_client.get(f"/admin/deals/deal/{deal.pk}/change/")

    # then
    assert response.status_code == 200


def test_moving_a_deal_to_lost_without_reason_is_refused(admin_client):
    # given
    deal = DealFactory(stage=StageFactory(name="Proposal"))
    lost = StageFactory(name="Lost", outcome="lost", default_win_probability=0)

    # when
    response = admin_client.post(
        f"/admin/deals/deal/{deal.pk}/change/", deal_form(deal, stage=lost.pk)
    )

    # then
    assert response.status_code == 200
    assert "A deal in a lost stage needs a lost reason." in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage.name == "Proposal"


def test_moving_a_deal_to_lost_with_reason_sets_close_time(admin_client):
    # given
    deal = DealFactory(stage=StageFactory(name="Proposal"))
    lost = StageFactory(name="Lost", outcome="lost", default_win_probability=0)
    reason = LostReasonFactory()

    # when
    response = admin_client.post(
        f"/admin/deals/deal/{deal.pk}/change/",
        deal_form(deal, stage=lost.pk, lost_reason=reason.pk),
    )

    # then
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage == lost and deal.lost_reason == reason
    assert deal.closed_at is not None


def test_deal_with_items_inline_saves(admin_client):
    # given
    deal = DealFactory()
    product = ProductFactory()

    # when
    response = admin_client.post(
        f"/admin/deals/deal/{deal.pk}/change/",
        deal_form(
            deal,
            **{
                "items-TOTAL_FORMS": "1",
                "items-0-product": product.pk,
                "items-0-quantity": "3",
                "items-0-unit_price": "25000",
            },
        ),
    )

    # then
    assert response.status_code == 302
    assert list(deal.items.values_list("quantity", "unit_price")) == [
        (Decimal("3.00"), Decimal("25000.00"))
    ]


def test_lost_reason_duplicate_in_other_case_gets_a_friendly_error(admin_client):
    # given
    LostReasonFactory(name="Harga terlalu tinggi")

    # when
    response = admin_client.post("/admin/deals/lostreason/add/", {"name": "HARGA TERLALU TINGGI"})

    # then
    assert response.status_code == 200
    assert "is already in the catalogue; names ignore letter case." in response.content.decode()
    assert LostReason.objects.count() == 1


def test_lost_reason_and_stage_and_product_changelists_load(admin_client):
    # given
    DealFactory(lost_reason=LostReasonFactory())
    ProductFactory()

    # when
    pages = [
        admin_client.get(f"/admin/deals/{model}/")
        for model in ("lostreason", "pipelinestage", "product")
    ]

    # then
    assert [page.status_code for page in pages] == [200, 200, 200]
