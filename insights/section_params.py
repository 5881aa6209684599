"""Each registry section's parameter spec: its options' bounds, defaults and choices, written
once (issue 26).

The API's serializers (insights/api), the admin customer filters (insights/customer_filters)
and the dashboard (insights/dashboards) all parse a section's options with its spec's `parse`,
so the three refuse the same values with the same words, and a help text names the bounds
from the spec, not from a copy. The figure registry (insights/figures.py) hands each section
its spec (`Section.params`); tests/insights/test_section_params.py fails when a bound is typed
again elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .clv import DEFAULT_MODEL, MODELS


class ParamError(ValueError):
    """A value a spec refuses: the parameter's name and why, in the reader's language."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


@dataclass(frozen=True)
class WholeSpec:
    """A whole number from `low` to `high` (both included), `default` when absent."""

    name: str
    low: int
    high: int
    default: int
    # The values a page offers as links or a select (the dashboard's lapse windows).
    offered: tuple[int, ...] = ()

    def parse(self, raw: object) -> int:
        if raw is None or raw == "":
            return self.default
        text = str(raw).strip()
        if not (text.isascii() and text.lstrip("-").isdigit()):
            raise ParamError(self.name, self.message())
        value = int(text)
        if not self.low <= value <= self.high:
            raise ParamError(self.name, self.message())
        return value

    def message(self) -> str:
        return _("a whole number from %(low)s to %(high)s") % {"low": self.low, "high": self.high}

    def bounds(self) -> str:
        """'1 to 730 (default 90)', for the API's English help texts."""
        return f"{self.low} to {self.high} (default {self.default})"


@dataclass(frozen=True)
class ChoiceSpec:
    """One of `choices`, `default` when absent."""

    name: str
    choices: tuple[str, ...]
    default: str

    def parse(self, raw: object) -> str:
        if raw is None or raw == "":
            return self.default
        text = str(raw).strip()
        if text not in self.choices:
            raise ParamError(self.name, self.message())
        return text

    def message(self) -> str:
        return _("one of: %(choices)s") % {"choices": ", ".join(self.choices)}


Spec = WholeSpec | ChoiceSpec

# --- Buyer lifecycle (METRICS.md G) -------------------------------------------------------------
# The lapse window W in days: at most two years, the rollup's gap cap (lifecycle.INFINITE_GAP).
LOST_AFTER = WholeSpec("lost_after", 1, 730, 90, offered=(30, 60, 90, 180, 365))

# --- Retention by cohort (METRICS.md H) ---------------------------------------------------------
EVENT = ChoiceSpec("event", ("purchase", "activity"), "purchase")
COHORT_OFFSET = WholeSpec("cohort_offset", 0, 12, 0)  # months after the cohort's

# --- Customer value (METRICS.md V) --------------------------------------------------------------
HORIZON = WholeSpec("horizon", 1, 730, 365)  # days after the as-of date A
MODEL = ChoiceSpec("model", tuple(MODELS), DEFAULT_MODEL)
# At risk: P(alive) below this (METRICS.md V); the card, the list and the filters read it here.
AT_RISK_BELOW = 0.5

# --- Top products (METRICS.md F) and demographics (METRICS.md B) --------------------------------
ROWS = WholeSpec("limit", 1, 100, 10)  # rows kept per list

# --- Customer health (METRICS.md Q) -------------------------------------------------------------
# Bands of the 0-100 score: healthy from HEALTHY_FROM, attention from ATTENTION_FROM, else at risk.
HEALTHY_FROM, ATTENTION_FROM = 70, 40
HEALTH_BAND = ChoiceSpec("health", ("healthy", "attention", "at_risk"), "")


def health_band_labels() -> dict[str, str]:
    """Each band with its scores, in the reader's language ("Needs attention (40–69)")."""
    return {
        "healthy": _("Healthy (%(low)s or more)") % {"low": HEALTHY_FROM},
        "attention": _("Needs attention (%(low)s–%(high)s)")
        % {"low": ATTENTION_FROM, "high": HEALTHY_FROM - 1},
        "at_risk": _("At risk (below %(high)s)") % {"high": ATTENTION_FROM},
    }


def health_bands_text() -> str:
    """The bands for the API's English descriptions."""
    return (
        f"`healthy` (health {HEALTHY_FROM} or more), `attention` ({ATTENTION_FROM} to "
        f"{HEALTHY_FROM - 1}) or `at_risk` (below {ATTENTION_FROM})"
    )


SECTION_PARAMS: Mapping[str, Mapping[str, Spec]] = {
    "lifecycle": {"lost_after": LOST_AFTER},
    "retention": {"event": EVENT, "cohort_offset": COHORT_OFFSET},
    "value": {"horizon": HORIZON, "model": MODEL},
    "products": {"limit": ROWS},
    "demographics": {"limit": ROWS},
    "health": {"health": HEALTH_BAND},
}
