from datetime import UTC, datetime

import pytest

from deals.models import PipelineStage
from deals.services import DealError, deal_closed_at, deal_status, lost_reason_clashing
from tests.factories import LostReasonFactory, StageFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
EARLIER = datetime(2026, 2, 20, 5, 0, tzinfo=UTC)


@pytest.fixture
def stages():
    return {
        "open": StageFactory(name="Proposal", outcome="open", default_win_probability=40),
        "won": StageFactory(name="Won", outcome="won", default_win_probability=100),
        "lost": StageFactory(name="Lost", outcome="lost", default_win_probability=0),
    }


def test_status_follows_metrics_section_3(stages):
    # given / when / then
    assert deal_status(stage=stages["lost"], win_probability=100) == "lost"
    assert deal_status(stage=stages["won"], win_probability=10) == "won"
    assert deal_status(stage=stages["open"], win_probability=100) == "won"
    assert deal_status(stage=stages["open"], win_probability=None) == "open"


def test_lost_stage_without_reason_is_refused(stages):
    # given / when
    with pytest.raises(DealError) as refused:
        deal_closed_at(
            stage=stages["lost"],
            win_probability=None,
            lost_reason=None,
            closed_at=None,
            previous_status="open",
            at=AT,
        )

    # then
    assert refused.value.field == "lost_reason"


def test_closing_stamps_close_time_only_when_empty(stages):
    # given
    reason = LostReasonFactory()

    # when
    lost = deal_closed_at(
        stage=stages["lost"],
        win_probability=None,
        lost_reason=reason,
        closed_at=None,
        previous_status="open",
        at=AT,
    )
    won_with_time = deal_closed_at(
        stage=stages["won"],
        win_probability=None,
        lost_reason=None,
        closed_at=EARLIER,
        previous_status="open",
        at=AT,
    )

    # then
    assert (lost, won_with_time) == (AT, EARLIER)


def test_reopening_a_closed_deal_clears_its_close_time(stages):
    # given / when
    reopened = deal_closed_at(
        stage=stages["open"],
        win_probability=None,
        lost_reason=None,
        closed_at=EARLIER,
        previous_status=PipelineStage.Outcome.WON,
        at=AT,
    )
    still_open = deal_closed_at(
        stage=stages["open"],
        win_probability=None,
        lost_reason=None,
        closed_at=EARLIER,
        previous_status="open",
        at=AT,
    )

    # then
    assert (reopened, still_open) == (None, EARLIER)


def test_lost_reason_clash_ignores_case_and_itself():
    # given
    reason = LostReasonFactory(name="Harga terlalu tinggi")

    # when / then
    assert lost_reason_clashing(name=" HARGA terlalu tinggi") == reason
    assert lost_reason_clashing(name="harga terlalu tinggi", exclude_pk=reason.pk) is None
    assert lost_reason_clashing(name="Tidak ada anggaran") is None
