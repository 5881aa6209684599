"""The customer list's filters: one module for the admin list, GET /api/v1/customers/ and
saved segments (validated here before they are stored).

Parameters (all optional; a bad value raises CustomerFilterError naming the parameter):

* source: the source as written (`Other` = none); company: a company id, or `none`;
  country: ISO 3166-1 alpha-2 in any case, or `Other`; city: as written, or `Other`.
* first_seen_from / first_seen_to: YYYY-MM-DD, inclusive local dates.
* start / end: a period P (YYYY-MM-DD, both or neither) that the following read in:
  - product: a product's external_id; customers with a won deal that includes it, closed in P
    (any time without P), as "top products" counts them;
  - revenue_min / revenue_max: revenue of won deals closed in P (lifetime revenue without P);
    a customer with none has 0;
  - has_deals: yes / no, a deal created in P (any time without P);
  - inactive: yes, no deal and no chat room created in P (needs P);
  - lost_reason: a lost deal closed in P with this reason (`Unspecified` for blank; needs P);
  - the RFM period when rfm_start / rfm_end are not given.
* segment (an RFM group name) and/or r, f (1-5): RFM for rfm_start..rfm_end, else P, else
  the last 30 days.
* segment_id: a saved segment's filters (one visible to the user).
* p_alive_min / p_alive_max (0 to 1) and predicted_clv_min / predicted_clv_max: the stored
  prediction of the last rebuild (insights.CustomerValue: as of today, horizon 365 days);
  customers without one (no buying day) never match a range.
* value=at_risk: P(alive) below section_params.AT_RISK_BELOW as of the last rebuild (the
  default model, MBG/NBD: a one-time buyer can be at risk too); with value_as_of
  (YYYY-MM-DD, up to today) as of that date instead, scored with its fit: the customers the
  dashboard's card of that date counts.
* health = healthy | attention | at_risk: the health band as of the last rebuild
  (insights.CustomerHealth); customers without a score never match.
* buyers = new | returning | lost with buyers_start, buyers_end (a bucket) and lost_after
  (section_params.LOST_AFTER): the buyer-lifecycle drill-down; cohort = YYYY-MM with
  cohort_offset and event (section_params): the cohort retained in month cohort + offset.
* lifecycle = active | lost (with lost_after): the lifecycle state today, active = a buying
  day in the last lost_after days, lost = buying days before but none in them.
* ordering: id (default), lifetime_revenue, last_purchase, p_alive, predicted_clv, health, each with
  `-` for descending; customers without a prediction sort last either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from chats.models import ChatRoom
from deals.models import Deal, DealItem, Product

from . import customer_value, lifecycle, queries
from .customer_search import customer_search_q
from .engine import cache, db
from .models import CustomerStats, CustomerWonDay, DealFact, Segment
from .periods import (
    CURRENT_PRESETS,
    PAST_PRESETS,
    Period,
    PeriodError,
    local_today,
    parse_period,
)
from .section_params import AT_RISK_BELOW, HEALTH_BAND, LOST_AFTER, ParamError
from .templatetags.insights_format import number_format

__all__ = [
    "FILTER_PARAMS",
    "CustomerFilterError",
    "customer_filter",
    "customer_filters_clean",
    "customer_filter_summary",
    "customer_search_q",
    "customer_order",
    "customer_rfm_period",
    "list_period",
]

MAX_ID = 10**18 - 1
MAX_MONEY = Decimal("1e16")
ORDERINGS = {
    "id": ("id",),
    "-id": ("-id",),
    "lifetime_revenue": ("stats__lifetime_revenue", "id"),
    "-lifetime_revenue": ("-stats__lifetime_revenue", "id"),
    "last_purchase": ("stats__last_purchase_day", "id"),
    "-last_purchase": ("-stats__last_purchase_day", "id"),
    # Predicted value (insights.CustomerValue, indexed): no prediction sorts last either way.
    "p_alive": (F("value__p_alive").asc(nulls_last=True), "id"),
    "-p_alive": (F("value__p_alive").desc(nulls_last=True), "id"),
    "predicted_clv": (F("value__predicted_clv").asc(nulls_last=True), "id"),
    "-predicted_clv": (F("value__predicted_clv").desc(nulls_last=True), "id"),
    "expected_purchases": (F("value__expected_purchases").asc(nulls_last=True), "id"),
    "-expected_purchases": (F("value__expected_purchases").desc(nulls_last=True), "id"),
    # Health as of today (insights.CustomerHealth, indexed): no score sorts last either way.
    "health": (F("health__health").asc(nulls_last=True), "id"),
    "-health": (F("health__health").desc(nulls_last=True), "id"),
}


class CustomerFilterError(ValueError):
    """A filter parameter is wrong; `param` names it (API 400 body, admin message)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


DrilldownError = CustomerFilterError  # the name the admin used before the move


FILTER_PARAMS = (
    "preset",
    "source",
    "company",
    "country",
    "city",
    "first_seen_from",
    "first_seen_to",
    "start",
    "end",
    "product",
    "revenue_min",
    "revenue_max",
    "has_deals",
    "inactive",
    "lost_reason",
    "segment",
    "r",
    "f",
    "rfm_start",
    "rfm_end",
    "segment_id",
    "p_alive_min",
    "p_alive_max",
    "last_purchase_from",
    "last_purchase_to",
    "predicted_clv_min",
    "predicted_clv_max",
    "value",
    "value_as_of",
    "buyers",
    "buyers_start",
    "buyers_end",
    "lost_after",
    "cohort",
    "cohort_offset",
    "event",
    "lifecycle",
    "health",
)


# The presets a saved segment may keep rolling: the past and current ones (a list of customers
# is about what has happened).
ROLLING_PRESETS: tuple[str, ...] = (*PAST_PRESETS, *CURRENT_PRESETS)


def rolling_preset_of(start: str | None, end: str | None) -> str | None:
    """The past or current preset whose period is start..end today, if one is: a segment saved
    from "last 30 days" can then keep the preset instead of freezing the dates."""
    if not start or not end:
        return None
    for preset in ROLLING_PRESETS:
        period = parse_period(preset=preset)
        if (period.start.isoformat(), period.end.isoformat()) == (start, end):
            return preset
    return None


def segment_name_taken(*, owner: Any, name: str, exclude_pk: int | None = None) -> bool:
    """Whether `owner` already has a segment of this name (any case): names are unique per
    owner, so a list of segments never shows two alike."""
    taken = Segment.objects.filter(owner=owner, name__iexact=name.strip())
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def filter_params() -> tuple[str, ...]:
    return FILTER_PARAMS


# --- Validation ------------------------------------------------------------------------------
def _int(param: str, value: str, *, low: int = 0, high: int = MAX_ID) -> int:
    text = value.strip()
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise CustomerFilterError(param, _("a whole number from %(low)s to %(high)s") % {
            "low": low, "high": high})  # fmt: skip
    return int(text)


def _date(param: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CustomerFilterError(param, _("a date YYYY-MM-DD")) from None


def _money(param: str, value: str) -> Decimal:
    text = value.strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or abs(amount) >= MAX_MONEY or "e" in text.lower():
        raise CustomerFilterError(param, _("an amount such as 10000000 or 2500.50"))
    return amount


def _choice(param: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise CustomerFilterError(param, _("one of: %(choices)s") % {"choices": ", ".join(choices)})
    return value


def list_period(params: Mapping[str, str]) -> Period | None:
    """The period P of start/end, or of a rolling `preset` (a saved segment's "last 30 days"
    moves with today), or None when none is given."""
    start, end = params.get("start") or None, params.get("end") or None
    if preset := params.get("preset"):
        if start or end:
            raise CustomerFilterError("preset", _("give either preset or start and end, not both"))
        if preset not in ROLLING_PRESETS:
            raise CustomerFilterError(
                "preset", _("one of: %(choices)s") % {"choices": ", ".join(ROLLING_PRESETS)}
            )
        try:
            return parse_period(preset=preset)
        except PeriodError as error:
            raise CustomerFilterError("preset", error.message) from None
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "start" if start is None else "end"
        raise CustomerFilterError(missing, _("give both start and end, or neither"))
    return _period(start, end, names=("start", "end"))


def _period(start: str | None, end: str | None, *, names: tuple[str, str]) -> Period:
    try:
        return parse_period(start=start, end=end)
    except PeriodError as error:
        param = names[0] if error.param == "start" else names[1]
        raise CustomerFilterError(param, error.message) from None


def _rfm_period(params: Mapping[str, str], period: Period | None) -> Period:
    start, end = params.get("rfm_start") or None, params.get("rfm_end") or None
    if start is None and end is None and period is not None:
        return period
    return _period(start, end, names=("rfm_start", "rfm_end"))


def customer_rfm_period(params: Mapping[str, str]) -> Period:
    """The period of the RFM filters and column: rfm_start..rfm_end, else P, else the default."""
    get = {name: str(value).strip() for name, value in params.items() if value not in (None, "")}
    return _rfm_period(get, list_period(get))


def customer_filters_clean(params: Mapping[str, str]) -> dict[str, str]:
    """The non-empty filter parameters of `params`, checked; raises CustomerFilterError.

    What a saved segment stores: every value is validated exactly as the list applies it.
    """
    active = {
        name: str(params[name]).strip()
        for name in filter_params()
        if params.get(name) not in (None, "")
    }
    unknown = [name for name in params if name not in filter_params() and name != "ordering"]
    if unknown:
        raise CustomerFilterError(unknown[0], _("not a customer-list filter"))
    # Applying to an empty queryset runs every check without reading customers.
    from customers.models import Customer

    customer_filter(queryset=Customer.objects.none(), params=active, user=None, nested=True)
    return active


# --- Applying --------------------------------------------------------------------------------
def customer_filter(
    *, queryset: QuerySet, params: Mapping[str, str], user: Any = None, nested: bool = False
) -> QuerySet:
    """Narrow a Customer queryset by the filter parameters present in `params`.

    `user` decides which saved segments `segment_id` may name (their own and shared ones; any
    for a superuser). `nested` is set when applying a saved segment's own filters.
    """
    get = {name: str(value).strip() for name, value in params.items() if value not in (None, "")}
    period = list_period(get)
    if value := get.get("source"):
        queryset = queryset.filter(source=value)  # "Other" is stored as the label itself
    if value := get.get("company"):
        if value.lower() == "none":
            queryset = queryset.filter(company__isnull=True)
        else:
            queryset = queryset.filter(company_id=_int("company", value))
    if value := get.get("country"):
        if value.lower() == "other":
            queryset = queryset.filter(country="Other")
        elif len(value) == 2 and value.isascii() and value.isalpha():
            queryset = queryset.filter(country=value.upper())
        else:
            raise CustomerFilterError("country", _("a two-letter country code, or Other"))
    if value := get.get("city"):
        queryset = queryset.filter(city=value)
    if value := get.get("first_seen_from"):
        queryset = queryset.filter(first_seen_date__gte=_date("first_seen_from", value))
    if value := get.get("first_seen_to"):
        queryset = queryset.filter(first_seen_date__lte=_date("first_seen_to", value))
    if value := get.get("product"):
        queryset = _bought(queryset, value, period)
    if "revenue_min" in get or "revenue_max" in get:
        queryset = _revenue(queryset, get, period)
    if value := get.get("has_deals"):
        queryset = _has_deals(queryset, _choice("has_deals", value, ("yes", "no")), period)
    if value := get.get("inactive"):
        _choice("inactive", value, ("yes",))
        queryset = _inactive(queryset, _needs(period, "inactive"))
    if value := get.get("lost_reason"):
        queryset = _lost(queryset, value, _needs(period, "lost_reason"))
    if any(get.get(p) for p in ("segment", "r", "f")) or "rfm_start" in get or "rfm_end" in get:
        queryset = _rfm(queryset, get, period)
    if value := get.get("segment_id"):
        if nested:
            raise CustomerFilterError("segment_id", _("a saved segment cannot name another"))
        queryset = _saved(queryset, _int("segment_id", value, low=1), user)
    queryset = _predicted(queryset, get)
    queryset = _last_purchase(queryset, get)
    queryset = _lifecycle(queryset, get)
    return queryset


def _last_purchase(queryset: QuerySet, get: Mapping[str, str]) -> QuerySet:
    """The last buying day (insights.CustomerStats, as of the last rebuild) within a range;
    a customer who never bought has none and never matches."""
    if value := get.get("last_purchase_from"):
        day = _date("last_purchase_from", value).toordinal()
        queryset = queryset.filter(stats__last_purchase_day__gte=day)
    if value := get.get("last_purchase_to"):
        day = _date("last_purchase_to", value).toordinal()
        queryset = queryset.filter(stats__last_purchase_day__lte=day)
    return queryset


def _lifecycle(queryset: QuerySet, get: Mapping[str, str]) -> QuerySet:
    """Buyer-lifecycle and cohort drill-downs and the lifecycle state today (insights.lifecycle)."""
    try:
        if get.get("buyers") or get.get("cohort"):
            queryset = queryset.filter(id__in=lifecycle.drilldown_customer_ids(get) or [])
        if value := get.get("lifecycle"):
            _choice("lifecycle", value, ("active", "lost"))
            lost_after = _spec(LOST_AFTER, get)
            ids = lifecycle.lifecycle_state_customer_ids(state=value, lost_after=lost_after)
            queryset = queryset.filter(id__in=ids)
    except CustomerFilterError:
        raise  # already names its parameter (lifecycle, lost_after): not buyers' or cohort's
    except PeriodError as error:
        raise CustomerFilterError(error.param, error.message) from None
    except ValueError as error:
        raise CustomerFilterError("cohort" if get.get("cohort") else "buyers", str(error)) from None
    return queryset


def _spec(spec: Any, get: Mapping[str, str]) -> Any:
    """The option as its section's spec parses it (insights.section_params): the API and the
    dashboard refuse the same values with the same words."""
    try:
        return spec.parse(get.get(spec.name))
    except ParamError as error:
        raise CustomerFilterError(error.param, error.message) from None


def _probability(param: str, value: str) -> float:
    try:
        number = float(Decimal(value))
    except (InvalidOperation, ValueError):
        raise CustomerFilterError(param, _("a number from 0 to 1")) from None
    if not 0 <= number <= 1:
        raise CustomerFilterError(param, _("a number from 0 to 1"))
    return number


def _predicted(queryset: QuerySet, get: Mapping[str, str]) -> QuerySet:
    """The stored prediction's ranges and the at-risk list (insights.CustomerValue)."""
    if value := get.get("p_alive_min"):
        queryset = queryset.filter(value__p_alive__gte=_probability("p_alive_min", value))
    if value := get.get("p_alive_max"):
        queryset = queryset.filter(value__p_alive__lte=_probability("p_alive_max", value))
    if value := get.get("predicted_clv_min"):
        queryset = queryset.filter(value__predicted_clv__gte=_money("predicted_clv_min", value))
    if value := get.get("predicted_clv_max"):
        queryset = queryset.filter(value__predicted_clv__lte=_money("predicted_clv_max", value))
    if value := get.get("value"):
        _choice("value", value, ("at_risk",))
        if as_of := get.get("value_as_of"):
            # The dashboard card's as-of date: the customers its figure counts, scored with the
            # fit of that date (a past period's at-risk set is not today's).
            day = _as_of_day(as_of)
            queryset = queryset.filter(id__in=customer_value.at_risk_customer_ids(as_of=day))
        else:
            queryset = queryset.filter(value__p_alive__lt=AT_RISK_BELOW)
    elif get.get("value_as_of"):
        raise CustomerFilterError("value_as_of", _("needs value=at_risk"))
    if get.get("health"):
        queryset = queryset.filter(health__band=_spec(HEALTH_BAND, get))
    return queryset


def _as_of_day(value: str) -> date:
    day = _date("value_as_of", value)
    if day > local_today():
        raise CustomerFilterError("value_as_of", _("a date up to today"))
    return day


def customer_order(queryset: QuerySet, ordering: str | None) -> QuerySet:
    """Order by `ordering` (see ORDERINGS); the stats columns are indexed for these."""
    key = (ordering or "id").strip()
    if key not in ORDERINGS:
        raise CustomerFilterError("ordering", _("one of: %(choices)s") % {
            "choices": ", ".join(ORDERINGS)})  # fmt: skip
    return queryset.order_by(*ORDERINGS[key])


def _needs(period: Period | None, param: str) -> Period:
    if period is None:
        raise CustomerFilterError(param, _("needs a period: start and end"))
    return period


def _days(period: Period) -> tuple[int, int]:
    return period.start.toordinal(), period.end.toordinal()


def _bought(queryset: QuerySet, external_id: str, period: Period | None) -> QuerySet:
    product_id = Product.objects.filter(external_id=external_id).values_list("pk", flat=True)
    if not product_id:
        raise CustomerFilterError("product", _("no product with external_id %(value)r") % {
            "value": external_id})  # fmt: skip
    # DealFact (the rebuild's per-deal row: customer, close day, won) by its primary key, from
    # the product's deal items (deal item product index).
    facts = DealFact.objects.filter(
        status="won",
        customer_id=OuterRef("pk"),
        deal_id__in=DealItem.objects.filter(product_id=product_id[0]).values("deal_id"),
    )
    if period is not None:
        start, end = _days(period)
        facts = facts.filter(close_day__gte=start, close_day__lte=end)
    return queryset.filter(Exists(facts))


def product_buyers(*, product_ids: list[int], period: Period | None) -> dict[int, tuple[int, int]]:
    """(won deals, customers) per product: the won deals that include it closed in P (any time
    without P), as top products counts them, and the customers among them, as the product's
    drill-down lists them (a deal without a customer has none). One grouped query, cached with
    the figures (a year of a popular product joins many deal items)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    span = (period.start, period.end) if period is not None else ("all", "time")
    rows = cache.cached(
        "product_buyers",
        (*span, *ids),
        lambda: product_buyers_payload(product_ids=ids, period=period),
        shape=product_buyers_payload,  # the payload is the answer: keyed by its builder's source
    )
    return {pid: (deals, customers) for pid, deals, customers in rows}


def product_buyers_payload(*, product_ids: list[int], period: Period | None) -> list[list[int]]:
    """product_buyers computed: [product id, won deals, customers] per product with some."""
    marks = ", ".join(f"%(p{n})s" for n in range(len(product_ids)))
    params: dict[str, Any] = {f"p{n}": pid for n, pid in enumerate(product_ids)}
    where = ""
    if period is not None:
        where = "AND f.close_day >= %(start)s AND f.close_day <= %(end)s"
        params["start"], params["end"] = _days(period)
    sql = f"""
        SELECT i.product_id, COUNT(DISTINCT f.deal_id), COUNT(DISTINCT f.customer_id)
        FROM {DealFact._meta.db_table} f
        JOIN {DealItem._meta.db_table} i ON i.deal_id = f.deal_id
        WHERE i.product_id IN ({marks}) AND f.status = 'won' {where}
        GROUP BY i.product_id
    """
    return [[int(value) for value in row] for row in db.rows(sql, params)]


def deals_by_customers(deals: int, customers: int) -> str:
    """ "16 deals by 15 customers": what a top-products figure counts beside what its list shows."""
    return _("%(deals)s by %(customers)s") % {
        "deals": ngettext("%(n)s deal", "%(n)s deals", deals)
        % {"n": number_format(deals, decimals=0)},
        "customers": ngettext("%(n)s customer", "%(n)s customers", customers)
        % {"n": number_format(customers, decimals=0)},
    }


def _revenue(queryset: QuerySet, get: Mapping[str, str], period: Period | None) -> QuerySet:
    low = _money("revenue_min", get["revenue_min"]) if get.get("revenue_min") else None
    high = _money("revenue_max", get["revenue_max"]) if get.get("revenue_max") else None
    if period is None:  # lifetime revenue (CustomerStats, indexed)
        if low is not None:
            queryset = queryset.filter(stats__lifetime_revenue__gte=low)
        if high is not None:
            queryset = queryset.filter(stats__lifetime_revenue__lte=high)
        return queryset
    start, end = _days(period)
    # CustomerWonDay (customer, close day, revenue in cents) by customerwonday_lookup (day, ...).
    sums = (
        CustomerWonDay.objects.filter(day__gte=start, day__lte=end)
        .values("customer_id")
        .annotate(cents=Sum("revenue_cents"))
    )
    inside = sums
    if low is not None:
        inside = inside.filter(cents__gte=low * 100)
    if high is not None:
        inside = inside.filter(cents__lte=high * 100)
    if (low is None or low <= 0) and (high is None or high >= 0):
        # A customer without a purchase in P has 0, which is in range: drop only those out of it.
        outside = sums.exclude(customer_id__in=inside.values("customer_id"))
        return queryset.exclude(pk__in=outside.values("customer_id"))
    return queryset.filter(pk__in=inside.values("customer_id"))


def _has_deals(queryset: QuerySet, value: str, period: Period | None) -> QuerySet:
    # A deal belongs to its contact's customer (METRICS.md 2). Any time: the deal and contact
    # foreign-key indexes. In P: DealFact (customer_id indexed) with the rebuild's local days,
    # so the list matches the sales figures it drills into.
    deals: QuerySet[Any]
    if period is None:
        deals = Deal.objects.filter(contact__customer_id=OuterRef("pk"))
    else:
        start, end = _days(period)
        deals = DealFact.objects.filter(
            customer_id=OuterRef("pk"), created_day__gte=start, created_day__lte=end
        )
    return queryset.filter(Exists(deals) if value == "yes" else ~Exists(deals))


def _inactive(queryset: QuerySet, period: Period) -> QuerySet:
    """METRICS.md A: no chat room created in P and no deal created in P."""
    start, end = _days(period)
    deals = DealFact.objects.filter(
        customer_id=OuterRef("pk"), created_day__gte=start, created_day__lte=end
    )
    rooms = ChatRoom.objects.filter(
        chat_contact__customer_id=OuterRef("pk"),
        created_at__date__gte=period.start,
        created_at__date__lte=period.end,
    )
    return queryset.filter(~Exists(deals), ~Exists(rooms))


def _lost(queryset: QuerySet, reason: str, period: Period) -> QuerySet:
    """METRICS.md E: a lost deal closed in P with this reason (the rebuild's label)."""
    start, end = _days(period)
    facts = DealFact.objects.filter(
        customer_id=OuterRef("pk"),
        status="lost",
        reason=reason,
        close_day__gte=start,
        close_day__lte=end,
    )
    return queryset.filter(Exists(facts))


def _rfm(queryset: QuerySet, get: Mapping[str, str], period: Period | None) -> QuerySet:
    # The public parameter is still `segment` (CONTRACT.md); its value is an RFM group name.
    group = get.get("segment") or None
    if group is not None and group not in queries.RFM_GROUPS:
        raise CustomerFilterError("segment", _("one of: %(choices)s") % {
            "choices": ", ".join(queries.RFM_GROUPS)})  # fmt: skip
    r = _int("r", get["r"], low=1, high=5) if get.get("r") else None
    f = _int("f", get["f"], low=1, high=5) if get.get("f") else None
    rfm_period = _rfm_period(get, period)
    if group is None and r is None and f is None:
        return queryset  # a period alone only sets the RFM column's period
    ids = queries.rfm_customer_ids(period=rfm_period, group=group, r=r, f=f)
    return queryset.filter(pk__in=ids)


def segments_visible(user: Any) -> QuerySet:
    """Saved segments a user may read: their own and shared ones (all for a superuser)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Segment.objects.none()
    if user.is_superuser:
        return Segment.objects.all()
    return Segment.objects.filter(Q(owner=user) | Q(shared=True))


def _saved(queryset: QuerySet, segment_id: int, user: Any) -> QuerySet:
    segment = segments_visible(user).filter(pk=segment_id).first()
    if segment is None:
        raise CustomerFilterError("segment_id", _("no segment %(id)s that you can see") % {
            "id": segment_id})  # fmt: skip
    return segment_customers(segment=segment, queryset=queryset)


def segment_customers(*, segment: Segment, queryset: QuerySet | None = None) -> QuerySet:
    """The customers of a saved segment; an invalid saved filter raises, never drops."""
    from customers.models import Customer

    base = Customer.objects.all() if queryset is None else queryset
    try:
        return customer_filter(queryset=base, params=segment.filters, nested=True)
    except CustomerFilterError as error:
        raise CustomerFilterError(
            "segment_id",
            _("segment %(id)s has an invalid saved filter: %(error)s")
            % {"id": segment.pk, "error": error},
        ) from None


# --- Summary ---------------------------------------------------------------------------------
def _day_range(period: Period) -> str:
    """ "1–31 Oct 2026", "3 Sep – 2 Oct 2026": month names in the active language."""
    start, end = period.start, period.end
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{dateformat.format(end, 'j M Y')}"
    if start.year == end.year:
        return f"{dateformat.format(start, 'j M')} – {dateformat.format(end, 'j M Y')}"
    return f"{dateformat.format(start, 'j M Y')} – {dateformat.format(end, 'j M Y')}"


def customer_filter_summary(params: Mapping[str, str]) -> list[str]:
    """Plain-language pieces of the active filters ("Bought Tablet", "1–31 Oct 2026", "Jakarta").

    Expects validated parameters; reads at most one product and one company name.
    """
    from customers.models import Company

    get = {name: str(value).strip() for name, value in params.items() if value not in (None, "")}
    parts: list[str] = []
    period = list_period(get)
    if value := get.get("product"):
        found = Product.objects.filter(external_id=value).values_list("pk", "name").first()
        parts.append(_("Bought %(product)s") % {"product": found[1] if found else value})
        if found and set(get) <= {"product", "start", "end", "preset"}:
            # The top-products drill-down as the dashboard links it: the chart counted won
            # deals, this list shows their customers; say both (other filters would narrow
            # the customers below the figure's).
            deals, customers = product_buyers(product_ids=[found[0]], period=period).get(
                found[0], (0, 0)
            )
            parts.append(deals_by_customers(deals, customers))
    if value := get.get("lost_reason"):
        parts.append(_("Lost a deal: %(reason)s") % {"reason": value})
    if get.get("has_deals") == "yes":
        parts.append(_("With deals"))
    elif get.get("has_deals") == "no":
        parts.append(_("Without deals"))
    if get.get("inactive") == "yes":
        parts.append(_("Inactive"))
    if "revenue_min" in get or "revenue_max" in get:
        low, high = get.get("revenue_min"), get.get("revenue_max")
        if low and high:
            parts.append(_("Revenue %(low)s to %(high)s") % {"low": low, "high": high})
        elif low:
            parts.append(_("Revenue at least %(low)s") % {"low": low})
        else:
            parts.append(_("Revenue at most %(high)s") % {"high": high})
    if period is not None:
        parts.append(_day_range(period))
    for name in ("city", "country", "source"):
        if value := get.get(name):
            parts.append(value)
    if value := get.get("company"):
        label = (
            _("No company")
            if value.lower() == "none"
            else Company.objects.filter(pk=int(value)).values_list("name", flat=True).first()
        )
        parts.append(label or value)
    if get.get("segment"):
        parts.append(_("RFM: %(segment)s") % {"segment": get["segment"]})
    if get.get("r") or get.get("f"):
        cell = " ".join(f"{k.upper()}={get[k]}" for k in ("r", "f") if get.get(k))
        parts.append(_("RFM cell %(cell)s") % {"cell": cell})
    first_from, first_to = get.get("first_seen_from"), get.get("first_seen_to")
    if first_from or first_to:
        parts.append(
            _("First seen %(start)s to %(end)s")
            % {"start": first_from or "…", "end": first_to or "…"}
        )
    last_from, last_to = get.get("last_purchase_from"), get.get("last_purchase_to")
    if last_from or last_to:
        parts.append(
            _("Last purchase %(start)s to %(end)s")
            % {"start": last_from or "…", "end": last_to or "…"}
        )
    low, high = get.get("p_alive_min"), get.get("p_alive_max")
    if low or high:
        parts.append(_("P(alive) %(low)s to %(high)s") % {"low": low or "0", "high": high or "1"})
    if value := get.get("health"):
        labels = {
            "healthy": _("Healthy"),
            "attention": _("Needs attention"),
            "at_risk": _("At risk"),
        }
        parts.append(_("Health: %(band)s") % {"band": labels.get(value, value)})
    if value := get.get("segment_id"):
        saved = Segment.objects.filter(pk=int(value)).values_list("name", flat=True).first()
        parts.append(_("Segment: %(name)s") % {"name": saved or value})
    parts += _lifecycle_summary(get)
    return parts


def _lifecycle_summary(get: Mapping[str, str]) -> list[str]:
    """What a lifecycle, cohort, at-risk or lifecycle-state drill-down lists, in words."""
    parts: list[str] = []
    lost_after = get.get("lost_after") or str(LOST_AFTER.default)
    if state := get.get("buyers"):
        label = {
            "new": _("New buyers"),
            "returning": _("Returning buyers"),
            "lost": _("Lost buyers"),
        }.get(state, state)
        start, end = get.get("buyers_start") or "…", get.get("buyers_end") or "…"
        parts.append(
            _("%(buyers)s from %(start)s to %(end)s (lost after %(days)s days without buying)")
            % {"buyers": label, "start": start, "end": end, "days": lost_after}
        )
    if cohort := get.get("cohort"):
        offset = get.get("cohort_offset") or "0"
        if get.get("event") == "activity":
            text = _(
                "First seen in %(cohort)s, active (a deal or chat room) %(offset)s months later"
            )
        else:
            text = _("First bought in %(cohort)s, bought again %(offset)s months later")
        if offset == "0":
            text = (
                _("First seen in %(cohort)s, active in that month")
                if get.get("event") == "activity"
                else _("First bought in %(cohort)s")
            )
        parts.append(text % {"cohort": cohort, "offset": offset})
    if get.get("value") == "at_risk":
        threshold = number_format(AT_RISK_BELOW, decimals=2)
        if as_of := get.get("value_as_of"):
            day = dateformat.format(date.fromisoformat(as_of), "j M Y")
            parts.append(
                _("At risk: P(alive) below %(threshold)s as of %(date)s")
                % {"threshold": threshold, "date": day}
            )
        else:
            parts.append(
                _("At risk: P(alive) below %(threshold)s as of the last rebuild (today)")
                % {"threshold": threshold}
            )
    state = get.get("lifecycle")
    if state == "active":
        parts.append(
            _("Active buyers today: a purchase in the last %(days)s days") % {"days": lost_after}
        )
    elif state == "lost":
        parts.append(
            _("Lost buyers today: bought before, none in the last %(days)s days")
            % {"days": lost_after}
        )
    return parts


def stats_for(customer_ids: list[int]) -> dict[int, CustomerStats]:
    """CustomerStats of a page of customers in one query."""
    return {s.customer_id: s for s in CustomerStats.objects.filter(customer_id__in=customer_ids)}
