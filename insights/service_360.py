"""The customer 360° (admin page and API) gains its service side: each room's first response
and resolution times, and the customer's survey answers with their comments (masked for a
reader without accounts.view_personal_data). One query for the answers, whatever their number.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from accounts.masking import mask_text
from chats.durations import duration_human, whole_seconds
from chats.models import ChatRoom, SurveyResponse
from customers.models import Customer


def room_times(room: ChatRoom) -> dict[str, Any]:
    """First response and resolution of one room: whole seconds (METRICS.md S) and human form."""
    first = whole_seconds(room.created_at, room.first_response_at)
    resolution = whole_seconds(room.created_at, room.resolved_at)
    return {
        "first_response_s": first,
        "resolution_s": resolution,
        "first_response": duration_human(first),
        "resolution": duration_human(resolution),
    }


def customer_survey_responses(*, customer: Customer, masked: bool) -> list[dict[str, Any]]:
    """The answers given through any of the customer's records, newest first."""
    responses = (
        SurveyResponse.objects.filter(
            Q(contact__customer=customer) | Q(chat_contact__customer=customer)
        )
        .select_related("contact", "chat_contact")
        .order_by("-created_at", "-id")
    )
    return [
        {
            "id": response.pk,
            "external_id": response.external_id,
            "kind": response.kind,
            "score": response.score,
            "comment": mask_text(response.comment) if masked else response.comment,
            "created_at": response.created_at,
            "record_kind": "contact" if response.contact_id else "chat_contact",
            "record_id": response.contact_id or response.chat_contact_id,
        }
        for response in responses
    ]


def rooms_with_times(rooms: Iterable[ChatRoom]) -> list[dict[str, Any]]:
    return [{"room": room, **room_times(room)} for room in rooms]
