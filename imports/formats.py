"""What each import kind's file looks like, for people: its columns in order (required first)
and one example row, shown on the Import CSV page, downloadable as a template and listed in the
README. The columns come from imports.kinds (the rules), the examples from here; a test fails
when a kind or a column has no example."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .kinds import KINDS

# One believable row per kind (CONTRACT §1). Timestamps are ISO 8601; one without an offset is
# local time in settings.TIME_ZONE.
EXAMPLES: dict[str, dict[str, str]] = {
    "companies": {
        "external_id": "CO-1", "name": "PT Maju Jaya", "industry": "Retail",
        "created_at": "2026-01-05T09:00:00+07:00",
    },
    "contacts": {
        "external_id": "C-1", "created_at": "2026-01-05T09:30:00+07:00", "first_name": "Ani",
        "last_name": "Wijaya", "email": "ani@example.id", "phone": "0812-3456-7890",
        "company_external_id": "CO-1", "source": "Website", "owner": "budi", "country": "ID",
        "city": "Jakarta",
    },
    "chat_contacts": {
        "external_id": "WA-1", "channel": "WhatsApp", "created_at": "2026-01-06T10:00:00",
        "name": "Ani W", "email": "", "phone": "+62 812 3456 7890",
    },
    "chat_rooms": {
        "external_id": "R-1", "chat_contact_external_id": "WA-1",
        "created_at": "2026-01-06T10:00:00", "first_response_at": "2026-01-06T10:04:30",
        "resolved_at": "2026-01-06T11:15:00", "agent": "Sari", "csat_score": "5",
    },
    "products": {
        "external_id": "P-1", "name": "Paket Premium", "sku": "PRM-12", "price": "1500000",
    },
    "deals": {
        "external_id": "D-1", "stage": "Won", "amount": "3000000", "created_at": "2026-01-10",
        "name": "Paket Premium - Ani", "contact_external_id": "C-1",
        "company_external_id": "CO-1", "outcome": "won", "win_probability": "100",
        "currency": "IDR", "closed_at": "2026-01-20T15:00:00", "expected_close_at": "2026-01-31",
        "lost_reason": "", "owner": "budi",
    },
    "deal_items": {
        "deal_external_id": "D-1", "product_external_id": "P-1", "quantity": "2",
        "unit_price": "1500000",
    },
    "survey_responses": {
        "external_id": "S-1", "kind": "nps", "score": "9", "created_at": "2026-01-21T08:00:00",
        "comment": "Cepat dan ramah", "contact_external_id": "C-1",
        "chat_contact_external_id": "", "chat_room_external_id": "",
    },
    "stages": {"name": "Proposal", "outcome": "open", "win_probability": "40", "order": "2"},
    "exchange_rates": {"currency": "USD", "date": "2026-01-01", "rate": "16250.50"},
    "sales_targets": {"month": "2026-01", "amount": "150000000", "owner": "budi"},
    "service_targets": {
        "clock": "business", "channel": "WhatsApp", "first_response_s": "900",
        "resolution_s": "28800",
    },
    "holidays": {"date": "2026-08-17", "name": "Hari Kemerdekaan"},
    "deal_changes": {
        "deal_external_id": "D-1", "changed_at": "2026-01-15T09:00:00", "stage": "Proposal",
        "win_probability": "40", "amount": "3000000", "currency": "IDR",
        "expected_close_at": "2026-01-31",
    },
}  # fmt: skip


@dataclass(frozen=True)
class KindFormat:
    kind: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    example: dict[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


def kind_format(kind: str) -> KindFormat:
    spec = KINDS[kind]
    return KindFormat(kind, spec.required, spec.optional, EXAMPLES.get(kind, {}))


def kind_formats(kinds: list[str] | None = None) -> list[KindFormat]:
    return [kind_format(kind) for kind in (kinds if kinds is not None else list(KINDS))]


def template_csv(kind: str) -> str:
    """The header and the example row of a kind, as a CSV file to fill in."""
    form = kind_format(kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(form.columns)
    writer.writerow([form.example.get(column, "") for column in form.columns])
    return out.getvalue()


def readme_table() -> str:
    """The README's table of kinds and columns (required in bold), kept true by a test."""
    lines = ["| kind | columns (required in bold) |", "|---|---|"]
    for form in kind_formats():
        cells = [f"**{c}**" for c in form.required] + list(form.optional)
        lines.append(f"| `{form.kind}` | {', '.join(cells)} |")
    return "\n".join(lines)
