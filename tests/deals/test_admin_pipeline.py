"""The deal admin's pipeline parts: expected close (a suggestion only as a placeholder) and the
list filters the forecast's drill-downs use."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deals.models import Deal, DealChange, PipelineStage
from deals.pipeline import stage_cycle_days
from tests.deals.test_admin import deal_form
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/deals/deal/"


def _stage(name: str, outcome: str = "open", probability: int = 50) -> PipelineStage:
    return PipelineStage.objects.update_or_create(
        name=name, defaults={"outcome": outcome, "default_win_probability": probability}
    )[0]


def _won_after(stage: PipelineStage, days: int) -> Deal:
    """A won deal that entered `stage` `days` days before it closed (yesterday)."""
    closed = timezone.now() - timedelta(days=1)
    deal = DealFactory(stage=_stage("Won", "won", 100), created_at=closed - timedelta(days=days),
                       closed_at=closed)  # fmt: skip
    DealChange.objects.filter(deal=deal).delete()
    DealChange.objects.create(deal=deal, changed_at=closed - timedelta(days=days),
                              stage_name=stage.name.upper(), amount=Decimal(1))  # fmt: skip
    DealChange.objects.create(deal=deal, changed_at=closed, stage_name="Won", amount=Decimal(1))
    return deal


def test_typical_cycle_is_the_median_days_from_entering_the_stage_to_winning():
    proposal = _stage("Proposal")
    for days in (10, 20, 40):
        _won_after(proposal, days)
    assert stage_cycle_days(now=timezone.now()) == {proposal.pk: 20}


def test_the_form_suggests_only_a_placeholder_and_stores_what_is_typed(admin_client):
    proposal = _stage("Proposal")
    for days in (14, 14):
        _won_after(proposal, days)
    deal = DealFactory(stage=proposal)
    page = admin_client.get(f"{CHANGELIST}{deal.pk}/change/").content.decode()
    suggested = (timezone.localdate() + timedelta(days=14)).isoformat()
    assert f'placeholder="{suggested}"' in page
    assert "data-suggestions" in page
    # Saved without typing a date: undated, whatever the placeholder said.
    response = admin_client.post(f"{CHANGELIST}{deal.pk}/change/", deal_form(deal))
    assert response.status_code == 302, response.content.decode()[:2000]
    deal.refresh_from_db()
    assert deal.expected_close_at is None
    form = deal_form(deal, expected_close_at_0="2027-01-05", expected_close_at_1="09:00:00")
    assert admin_client.post(f"{CHANGELIST}{deal.pk}/change/", form).status_code == 302
    deal.refresh_from_db()
    assert timezone.localtime(deal.expected_close_at).date().isoformat() == "2027-01-05"
    assert DealChange.objects.filter(deal=deal).last().expected_close_at == deal.expected_close_at


def _count(client, query: dict) -> int:
    response = client.get(CHANGELIST, query)
    assert response.status_code == 200
    assert "e" not in response.wsgi_request.GET
    return response.context["cl"].result_count


def test_list_filters_status_and_expected_close(admin_client):
    proposal = _stage("Proposal")
    today = timezone.localdate()

    def at(offset: int, hour: int = 0) -> datetime:
        moment = datetime.combine(today + timedelta(days=offset), datetime.min.time())
        return timezone.make_aware(moment) + timedelta(hours=hour)

    DealFactory(stage=proposal, expected_close_at=at(1))  # tomorrow 00:00 local
    DealFactory(stage=proposal, expected_close_at=at(7, 23))
    DealFactory(stage=proposal, expected_close_at=at(-1, 23))  # overdue
    DealFactory(stage=proposal, expected_close_at=None)  # undated
    DealFactory(stage=_stage("Won", "won", 100), expected_close_at=at(2))
    DealFactory(stage=proposal, win_probability=100, expected_close_at=at(2))  # won
    start, end = today + timedelta(days=1), today + timedelta(days=7)
    window = {"expected_from": str(start), "expected_to": str(end)}
    assert _count(admin_client, {"status": "open", **window}) == 2
    assert _count(admin_client, {"status": "open", **window, "stage__id__exact": proposal.pk}) == 2
    assert _count(admin_client, window) == 4
    assert _count(admin_client, {"status": "open", "expected": "overdue"}) == 1
    assert _count(admin_client, {"status": "open", "expected": "undated"}) == 1
    assert _count(admin_client, {"status": "won"}) == 2
