"""The "why these records are one customer" rows in the reader's language.

customers.identity names records and links in English ("CRM contact 12", "phone"); these
helpers translate them for display only, where the admin and the 360° page show them.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

VIA_LABELS = {
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("email"),
    "always-merge rule": gettext_lazy("always-merge rule"),
}
RECORD_LABELS = {
    "CRM contact": gettext_lazy("CRM contact"),
    "chat contact": gettext_lazy("chat contact"),
}


def record_label(label: str) -> str:
    """'CRM contact 12' → 'kontak CRM 12' in Indonesian; other labels unchanged."""
    for english, translated in RECORD_LABELS.items():
        if label.startswith(english + " "):
            return f"{translated}{label[len(english) :]}"
    return label


def via_label(via: str) -> str:
    return str(VIA_LABELS.get(via, via))


def edge_text(edge: Any) -> str:
    """One explanation edge as a sentence: 'CRM contact 1 —phone +62…→ chat contact 3'."""
    link = f"{via_label(edge.via)} {edge.key}".strip()
    return _("%(source)s —%(link)s→ %(target)s") % {
        "source": record_label(edge.source),
        "link": link,
        "target": record_label(edge.target),
    }
