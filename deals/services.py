"""Rules a deal must keep whoever edits it (admin forms call these; they hold no form code)."""

from datetime import datetime

from . import rules
from .models import LostReason, PipelineStage


class DealError(Exception):
    """A deal edit breaks a rule; `field` names the form field to show it on."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def deal_status(*, stage: PipelineStage, win_probability: int | None) -> str:
    """'won', 'lost' or 'open' as METRICS.md section 3 defines it (deals/rules.py)."""
    return rules.deal_status(
        stage_outcome=stage.outcome,
        stage_default_win_probability=stage.default_win_probability,
        win_probability=win_probability,
    )


def deal_closed_at(
    *,
    stage: PipelineStage,
    win_probability: int | None,
    lost_reason: LostReason | None,
    closed_at: datetime | None,
    previous_status: str | None,
    at: datetime,
) -> datetime | None:
    """The close time a deal should store after an edit; raises DealError when it may not.

    A deal in a lost stage needs a lost reason. Closing (won or lost) stamps `at` when no close
    time was given; moving a closed deal back to open clears it, since its close date would
    otherwise date it in the won/lost figures (METRICS.md section 3).
    """
    status = deal_status(stage=stage, win_probability=win_probability)
    if status == PipelineStage.Outcome.LOST and lost_reason is None:
        raise DealError("lost_reason", "A deal in a lost stage needs a lost reason.")
    if status != PipelineStage.Outcome.OPEN:
        return closed_at or at
    if previous_status in (PipelineStage.Outcome.WON, PipelineStage.Outcome.LOST):
        return None
    return closed_at


def lost_reason_clashing(*, name: str, exclude_pk: int | None = None) -> LostReason | None:
    """The catalogue entry that already has this name in any letter case, if any."""
    clashes = LostReason.objects.filter(name__iexact=name.strip())
    if exclude_pk is not None:
        clashes = clashes.exclude(pk=exclude_pk)
    return clashes.first()
