"""`previous` and `change_pct` on the headline responses (METRICS.md section 4, Comparison).

The headline fields are the registry's (insights.figures.headline_figures); the comparison
itself is made in insights.comparison.headline_comparison, for the API and dashboard alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from insights.figures import compared_figures

PREVIOUS_HELP = (
    "Each headline figure for the previous period P′ = [start − days(P), start − 1], the same "
    "length just before P."
)
CHANGE_HELP = (
    "Per headline figure, 100 × (value − previous) / previous from the two figures as "
    "reported, rounded half away from zero to 2 places; null when previous is 0 (no baseline, "
    "not the same as no change)."
)


def _nullable(field: serializers.Field) -> serializers.Field:
    """A copy of a response field that may be null: a period that starts after today has
    nothing to compare with (METRICS.md 4)."""
    # A field is copied from the arguments it was made with (DRF re-makes declared fields).
    return type(field)(*field._args, **{**field._kwargs, "allow_null": True})


def comparison_fields(
    name: str, declared: Mapping[str, Any], section_key: str
) -> tuple[serializers.Serializer, serializers.Serializer]:
    """The `previous` and `change_pct` fields of a response serializer, from its own fields:
    one per headline figure of the section in the figure registry."""
    headline = [f.field for f in compared_figures(section_key)]
    previous = type(
        f"{name}PreviousSerializer",
        (serializers.Serializer,),
        {field: _nullable(declared[field]) for field in headline},
    )
    change = type(
        f"{name}ChangeSerializer",
        (serializers.Serializer,),
        {
            field: serializers.DecimalField(
                max_digits=None,
                decimal_places=2,
                coerce_to_string=True,
                allow_null=True,
                help_text=f"Change of {field} against P′ in %; null when its previous value is 0.",
            )
            for field in headline
        },
    )
    return previous(help_text=PREVIOUS_HELP), change(help_text=CHANGE_HELP)
