"""The customer list's drill-down filters (docs/INTERFACES.md), shared by admin screens.

Parameters: source (label; "Other" = none), company (id; "none" = Other), first_seen_from /
first_seen_to (YYYY-MM-DD, inclusive, local dates), has_deals (yes|no), and an RFM segment or
grid cell: segment and/or r, f (1..5) with rfm_start / rfm_end (the period they are computed for).
"""

import importlib
import logging
from collections.abc import Mapping
from datetime import date

from django.db.models import Exists, OuterRef, Q, QuerySet

from .keys import email_key, phone_key
from .models import Contact

logger = logging.getLogger(__name__)

DRILLDOWN_PARAMS = (
    "source",
    "company",
    "first_seen_from",
    "first_seen_to",
    "has_deals",
    "segment",
    "rfm_start",
    "rfm_end",
    "r",
    "f",
)
# Buyer lifecycle and cohort drill-downs (METRICS.md G, H), answered by insights.lifecycle.
LIFECYCLE_DRILLDOWN_PARAMS = (
    "buyers",
    "buyers_start",
    "buyers_end",
    "lost_after",
    "cohort",
    "cohort_offset",
    "event",
)


class DrilldownError(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


def customer_drilldown(*, queryset: QuerySet, params: Mapping[str, str]) -> QuerySet:
    """Apply the drill-down parameters present in `params`; DrilldownError names a bad one."""
    if source := params.get("source"):
        queryset = queryset.filter(source=source)  # "Other" is stored as the label itself
    if company := params.get("company"):
        if company == "none":
            queryset = queryset.filter(company__isnull=True)
        else:
            queryset = queryset.filter(company_id=_int("company", company))
    if value := params.get("first_seen_from"):
        queryset = queryset.filter(first_seen_date__gte=_date("first_seen_from", value))
    if value := params.get("first_seen_to"):
        queryset = queryset.filter(first_seen_date__lte=_date("first_seen_to", value))
    if value := params.get("has_deals"):
        if value not in ("yes", "no"):
            raise DrilldownError("has_deals", "yes or no")
        with_deals = Exists(Contact.objects.filter(customer=OuterRef("pk"), deals__isnull=False))
        queryset = queryset.filter(with_deals if value == "yes" else ~with_deals)
    if any(params.get(p) for p in ("segment", "r", "f")):
        queryset = queryset.filter(id__in=_rfm_ids(params))
    if params.get("buyers") or params.get("cohort"):
        queryset = queryset.filter(id__in=_lifecycle_ids(params))
    return queryset


def customer_search_q(term: str) -> Q:
    """Name, email or phone in any format, for the admin list and the API's `search=`.

    A phone or email is reduced to its identity key (METRICS.md section 2) and matched on the
    indexed keys of the customer and of its member records.
    """
    from chats.models import ChatContact

    text = term.strip()
    q = (
        Q(display_name__icontains=text)
        | Q(primary_email__icontains=text)
        | Q(primary_phone=text)
        | Exists(
            Contact.objects.filter(customer_id=OuterRef("pk")).filter(
                Q(first_name__icontains=text) | Q(last_name__icontains=text)
            )
        )
        | Exists(ChatContact.objects.filter(customer_id=OuterRef("pk"), name__icontains=text))
    )
    for key, field in ((phone_key(text), "phone_key"), (email_key(text), "email_key")):
        if key:
            primary = "primary_phone" if field == "phone_key" else "primary_email__iexact"
            q |= (
                Q(**{primary: key})
                | Exists(Contact.objects.filter(customer_id=OuterRef("pk"), **{field: key}))
                | Exists(ChatContact.objects.filter(customer_id=OuterRef("pk"), **{field: key}))
            )
    return q


def _rfm_ids(params: Mapping[str, str]) -> list[int]:
    from insights.periods import Period

    start = _date("rfm_start", params.get("rfm_start", ""))
    end = _date("rfm_end", params.get("rfm_end", ""))
    r = _int("r", params["r"]) if params.get("r") else None
    f = _int("f", params["f"]) if params.get("f") else None
    for name, value in (("r", r), ("f", f)):
        if value is not None and not 1 <= value <= 5:
            raise DrilldownError(name, "1 to 5")
    try:
        queries = importlib.import_module("insights.queries")
        rfm_customer_ids = queries.rfm_customer_ids
    except (ImportError, AttributeError):
        logger.warning("insights.queries.rfm_customer_ids unavailable; RFM drill-down ignored")
        return []  # no segment can be computed, so no customer is known to be in it
    try:
        period = Period(start=start, end=end)
    except ValueError as exc:
        raise DrilldownError("rfm_end", str(exc)) from exc
    try:
        return rfm_customer_ids(period=period, segment=params.get("segment") or None, r=r, f=f)
    except ValueError as exc:
        raise DrilldownError("segment", str(exc)) from exc


def _lifecycle_ids(params: Mapping[str, str]) -> list[int]:
    lifecycle = importlib.import_module("insights.lifecycle")
    try:
        return lifecycle.drilldown_customer_ids(params) or []
    except ValueError as exc:
        raise DrilldownError(getattr(exc, "param", "buyers"), str(exc)) from exc


def _int(param: str, value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DrilldownError(param, "a whole number") from None


def _date(param: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise DrilldownError(param, "a date YYYY-MM-DD") from None
