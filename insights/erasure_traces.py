"""An erased person in insights' own text: saved segment names and their filters.

privacy never imports insights; it sends `person_erasing` inside the erasure's transaction and
this receiver answers it, so the segment goes with the rest or not at all.
"""

from __future__ import annotations

import re

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from .models import Segment

REDACTED = "[erased]"


def segment_traces_redact(sender: object, *, needles: set[str], **kwargs: object) -> dict[str, int]:
    """Cut the person's emails, phones, keys and full names out of segment names and filters."""
    if not needles:
        return {"segments_redacted": 0}
    pattern = re.compile(
        "|".join(re.escape(s) for s in sorted(needles, key=len, reverse=True)), re.IGNORECASE
    )
    mentions = Q(pk__in=[])
    for needle in needles:
        mentions |= Q(name__icontains=needle) | Q(text__icontains=needle)
    redacted = 0
    segments = Segment.objects.annotate(text=Cast("filters", TextField())).filter(mentions)
    for segment in segments:
        segment.name = pattern.sub(REDACTED, segment.name)[
            : Segment._meta.get_field("name").max_length
        ]
        segment.filters = {
            key: pattern.sub(REDACTED, value) if isinstance(value, str) else value
            for key, value in segment.filters.items()
        }
        segment.save(update_fields=["name", "filters"])
        redacted += 1
    return {"segments_redacted": redacted}
