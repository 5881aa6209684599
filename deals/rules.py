"""What makes a deal won, lost or open (METRICS.md section 3), in the three forms code needs.

    lost  its stage's outcome is lost;
    won   otherwise, its stage's outcome is won, or its win probability is 100 (its own, else
          the stage's default when the deal has none);
    open  everything else.

One rule, written three ways that must agree (tests/deals/test_rules.py checks them on the
same rows): a Python predicate for one deal in memory (`deal_status`), Q objects for the ORM
(`won_q`, `lost_q`, `open_q`) and an SQL CASE expression for the rollup (`status_sql`).
This module imports no models, so models, services and insights can all use it.
"""

from django.db.models import Q

# The values of PipelineStage.Outcome (deals/models.py), which reads them from here.
OPEN = "open"
WON = "won"
LOST = "lost"
CERTAIN = 100  # a win probability that makes a deal won whatever its stage


def deal_status(*, stage_outcome: str, stage_default_win_probability: int,
                win_probability: int | None) -> str:  # fmt: skip
    """'won', 'lost' or 'open' for one deal."""
    if stage_outcome == LOST:
        return LOST
    probability = stage_default_win_probability if win_probability is None else win_probability
    if stage_outcome == WON or probability == CERTAIN:
        return WON
    return OPEN


def lost_q(prefix: str = "") -> Q:
    """Deals that are lost; `prefix` is the path to the deal ("deals__" from a contact)."""
    return Q(**{f"{prefix}stage__outcome": LOST})


def won_q(prefix: str = "") -> Q:
    """Deals that are won; `prefix` as in lost_q."""
    return ~lost_q(prefix) & (
        Q(**{f"{prefix}stage__outcome": WON})
        | Q(**{f"{prefix}win_probability": CERTAIN})
        | Q(
            **{
                f"{prefix}win_probability__isnull": True,
                f"{prefix}stage__default_win_probability": CERTAIN,
            }
        )
    )


def open_q(prefix: str = "") -> Q:
    """Deals that are neither lost nor won."""
    return ~lost_q(prefix) & ~won_q(prefix)


def status_sql(*, deal: str, stage: str) -> str:
    """An SQL CASE giving 'won', 'lost' or 'open', for table aliases `deal` and `stage`.

    `deal` is a deals_deal row and `stage` its deals_pipelinestage row (joined by stage_id).
    """
    if not (deal.isidentifier() and stage.isidentifier()):
        raise ValueError("table aliases must be plain identifiers")
    return (
        f"CASE WHEN {stage}.outcome = '{LOST}' THEN '{LOST}' "
        f"WHEN {stage}.outcome = '{WON}' "
        f"OR COALESCE({deal}.win_probability, {stage}.default_win_probability) = {CERTAIN} "
        f"THEN '{WON}' ELSE '{OPEN}' END"
    )
