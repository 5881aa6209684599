"""The dashboard's "Customer service" section (METRICS.md S): cards, trend, channel/agent tables.

Figures come from insights.service (the same function as the API); this module only shapes
them for templates/admin/insights/_service.html and adds the drill-down links: each channel
or agent row opens the chat rooms admin list filtered by the same local dates and label, so
the list shows the row's number of rooms.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chats.durations import duration_human

from ..comparison import headline_comparison
from ..figures import figure
from ..periods import Period
from ..service import ServiceFigures, ServiceRow, service_figures
from ..templatetags.insights_format import number_format

# Plain-word definitions shown under each card and table (users cannot see METRICS.md).
SERVICE_HELP: dict[str, Any] = {
    # The cards' definitions come from the figure registry (insights/figures.py).
    **{
        key: figure(key).help
        for key in (
            "rooms",
            "median_first_response_s",
            "median_resolution_s",
            "resolution_pct",
            "csat_avg",
            "fcr_pct",
            "nps",
            "ces_avg",
        )
    },
    "tables": gettext_lazy(
        "Every room figure per channel and per agent (a blank agent is “Unassigned”); a row "
        "opens the chat rooms it counts."
    ),
    "trend": gettext_lazy("Rooms opened and their median resolution time per bucket."),
    **{
        key: figure(key).help
        for key in (
            "first_response_met_pct",
            "resolution_met_pct",
            "median_first_response_business_s",
            "open_rooms",
            "backlog_age",
        )
    },
    "levels": gettext_lazy(
        "Per channel and agent: the share of rooms answered and resolved within their "
        "target (rooms still within it are not counted), and the late rooms, which open the "
        "list of those rooms. Where a target counts business hours only, the share on the "
        "calendar clock is shown beside it. Targets, business hours and holidays are set in "
        "the admin; figures are as of the last recalculation."
    ),
    "surveys": gettext_lazy(
        "NPS and customer effort answers that name the chat room they rate, counted for "
        "that room's channel and agent."
    ),
}


# Headline figures shown inside another card's detail line rather than as a card of their own
# (the registry coverage test reads this: every headline figure is on the page somewhere).
SHOWN_WITHIN = {
    "resolved_rooms": "rooms",
    "p90_first_response_s": "median_first_response_s",
    "p90_resolution_s": "median_resolution_s",
    "rated_rooms": "csat_avg",
    "csat_pct": "csat_avg",
    "nps_responses": "nps",  # promoters + passives + detractors
    "ces_responses": "ces_avg",
    "first_response_met": "first_response_met_pct",
    "first_response_breached": "first_response_met_pct",
    "first_response_pending": "first_response_met_pct",
    "resolution_met": "resolution_met_pct",
    "resolution_breached": "resolution_met_pct",
    "resolution_pending": "resolution_met_pct",
    "p90_first_response_business_s": "median_first_response_business_s",
}


@dataclass(frozen=True)
class ServiceCard:
    key: str
    label: str
    value: str
    detail: str
    change: Decimal | None
    help: str


def _chatroom_list() -> str:
    try:
        return reverse("admin:chats_chatroom_changelist")
    except NoReverseMatch:
        return "/admin/chats/chatroom/"


def chatroom_list_url(
    *,
    period: Period,
    channel: str | None = None,
    agent: str | None = None,
    level: str | None = None,
) -> str:
    """The chat rooms admin list for rooms opened in `period` (local dates), by channel/agent,
    and with `level` (insights.admin_chatrooms: `first_response_breached`...) the rooms of
    that status at the last rebuild."""
    filters = {
        "created_at__date__gte": period.start.isoformat(),
        "created_at__date__lte": period.end.isoformat(),
    }
    if channel is not None:
        filters["chat_contact__channel"] = channel
    if agent is not None:
        filters["agent_label"] = agent
    if level is not None:
        filters["service_level"] = level
    return f"{_chatroom_list()}?{urlencode(filters)}"


# The admin list's ordering parameter for "opened at", oldest first (1-based column number of
# `created_at` in ChatRoomAdmin.list_display).
OLDEST_FIRST = "4"


def open_rooms_url() -> str:
    """The rooms open at the last rebuild's now, whenever opened, oldest first."""
    return f"{_chatroom_list()}?{urlencode({'service_level': 'open', 'o': OLDEST_FIRST})}"


def _pct(value: Decimal) -> str:
    return f"{value:.2f}%"


def _cards(figures: ServiceFigures, change: dict[str, Decimal | None]) -> list[ServiceCard]:
    """The section's cards: label and help text from the figure registry, the change from
    insights.comparison (`change`); a card's value and detail line are this page's."""
    p90 = _("90%%: %(time)s")
    shown: dict[str, tuple[str, str]] = {
        "rooms": (f"{figures.rooms:,}", _("%(n)s resolved") % {"n": f"{figures.resolved_rooms:,}"}),
        "median_first_response_s": (
            duration_human(figures.median_first_response_s),
            p90 % {"time": duration_human(figures.p90_first_response_s)},
        ),
        "median_resolution_s": (
            duration_human(figures.median_resolution_s),
            p90 % {"time": duration_human(figures.p90_resolution_s)},
        ),
        "resolution_pct": (_pct(figures.resolution_pct), ""),
        "csat_avg": (
            f"{figures.csat_avg:.2f}",
            _("%(pct)s satisfied, %(n)s rated")
            % {"pct": _pct(figures.csat_pct), "n": f"{figures.rated_rooms:,}"},
        ),
        "fcr_pct": (_pct(figures.fcr_pct), ""),
        "nps": (
            f"{figures.nps:.2f}",
            _("%(p)s promoters · %(s)s passives · %(d)s detractors")
            % {"p": figures.nps_promoters, "s": figures.nps_passives, "d": figures.nps_detractors},
        ),
        "ces_avg": (
            f"{figures.ces_avg:.2f}",
            _("%(n)s answers") % {"n": f"{figures.ces_responses:,}"},
        ),
    }
    return [
        ServiceCard(key, str(figure(key).label), value, detail, change[key], str(figure(key).help))
        for key, (value, detail) in shown.items()
    ]


def _local_pct(value: Decimal) -> str:
    """A percentage in the active language's number format ("80,5%" in Bahasa Indonesia)."""
    return f"{number_format(value)}%"


def _level_card(
    figures: ServiceFigures,
    compared: dict[str, dict[str, Any]],
    key: str,
    label: str,
    value: str,
    detail: str,
    kind: str,
) -> dict[str, Any]:
    """A card with the dashboard's conventions (_comparison.html): the previous value, the
    change (insights.comparison's) and an arrow coloured by what the figure means ("up is
    bad" from the figure registry)."""
    now, before = getattr(figures, key), compared["previous"].get(key)
    card: dict[str, Any] = {"key": key, "label": label, "value": value, "detail": detail,
                            "help": str(SERVICE_HELP[key])}  # fmt: skip
    if before is None:
        return card
    if now == before:
        arrow, tone = "flat", "neutral"
    else:
        up = now > before
        arrow = "up" if up else "down"
        tone = "good" if up != figure(key).up_is_bad else "bad"
    card["f"] = {
        "arrow": arrow,
        "tone": tone,
        "change": compared["change_pct"].get(key),
        "previous": before,
        "kind": kind,
        "previous_display": duration_human(before) if kind == "duration" else "",
    }
    return card


def _level_cards(
    figures: ServiceFigures, compared: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    late = _("%(late)s late · %(pending)s pending")
    cards = []
    for kind, label in (
        ("first_response", _("First replies on target")),
        ("resolution", _("Resolutions on target")),
    ):
        detail = late % {
            "late": f"{getattr(figures, kind + '_breached'):,}",
            "pending": f"{getattr(figures, kind + '_pending'):,}",
        }
        if figures.business_clock:
            detail += " · " + _("calendar time: %(pct)s") % {
                "pct": _local_pct(getattr(figures, kind + "_cal_met_pct"))
            }
        value = _local_pct(getattr(figures, kind + "_met_pct"))
        cards.append(_level_card(figures, compared, f"{kind}_met_pct", label, value, detail, "pct"))
    cards.append(_level_card(
        figures, compared, "median_first_response_business_s",
        _("Median first reply (business hours)"),
        duration_human(figures.median_first_response_business_s),
        _("90%%: %(time)s") % {"time": duration_human(figures.p90_first_response_business_s)},
        "duration",
    ))  # fmt: skip
    return cards


def _level_table(rows: list[ServiceRow], period: Period, by: str) -> list[dict[str, Any]]:
    return [
        {
            "row": row,
            "first_response_breached_url": chatroom_list_url(
                period=period, level="first_response_breached", **{by: row.label}
            ),
            "resolution_breached_url": chatroom_list_url(
                period=period, level="resolution_breached", **{by: row.label}
            ),
        }
        for row in rows
    ]


def _backlog(figures: ServiceFigures) -> list[dict[str, Any]]:
    labels = {
        "under_1h": _("Under 1 hour"),
        "1h_24h": _("1 to 24 hours"),
        "1d_7d": _("1 to 7 days"),
        "over_7d": _("Over 7 days"),
    }
    return [{"key": key, "label": labels[key], "rooms": figures.backlog_age.get(key, 0)}
            for key in labels]  # fmt: skip


def _table(rows: list[ServiceRow], period: Period, by: str) -> list[dict[str, Any]]:
    return [
        {
            "row": row,
            "median_first_response": duration_human(row.median_first_response_s),
            "median_resolution": duration_human(row.median_resolution_s),
            "p90_resolution": duration_human(row.p90_resolution_s),
            "url": chatroom_list_url(period=period, **{by: row.label}),
        }
        for row in rows
    ]


def service_section(
    *, period: Period, granularity: str, charts: dict[str, Any], chart_labels: dict[str, str]
) -> dict[str, Any]:
    """Template context of the section; adds its trend chart to `charts` (the page's JSON)."""
    figures = service_figures(period=period, granularity=granularity)
    compared = headline_comparison(
        section_key="service",
        options={"period": period, "granularity": granularity},
        current=figures,
    )
    charts["service"] = {
        "labels": [bucket.start.isoformat() for bucket in figures.trend],
        "series": {
            "rooms": [bucket.rooms for bucket in figures.trend],
            # Chart axis in minutes; the data table shows the human form.
            "resolution_min": [
                round(bucket.median_resolution_s / 60, 1) for bucket in figures.trend
            ],
        },
    }
    chart_labels["rooms"] = _("Rooms")
    chart_labels["resolution_min"] = _("Median resolution time (min)")
    return {
        "service": figures,
        "service_cards": _cards(figures, compared["change_pct"]),
        "service_compared": compared,
        "service_channels": _table(figures.by_channel, period, "channel"),
        "service_agents": _table(figures.by_agent, period, "agent"),
        "service_trend": [
            {"bucket": b, "median_resolution": duration_human(b.median_resolution_s)}
            for b in figures.trend
        ],
        "service_help": SERVICE_HELP,
        "service_rooms_url": chatroom_list_url(period=period),
        "service_level_cards": _level_cards(figures, compared),
        "service_level_channels": _level_table(figures.by_channel, period, "channel"),
        "service_level_agents": _level_table(figures.by_agent, period, "agent"),
        "service_breached_url": chatroom_list_url(period=period, level="first_response_breached"),
        "service_backlog": _backlog(figures),
        "service_open_url": open_rooms_url(),
    }
