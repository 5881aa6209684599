"""The metric names stored in the rollup tables (insights.rollup writes, insights.queries reads).

One name per kind of event or sum, spelled out; tests/insights/test_metric_keys.py fails when
code in insights/ still names a rollup metric by its old abbreviation.
"""

# --- GapCell: distinct customers with an event on a day (gap encoding, insights.rollup) --------
ACTIVE = "active"  # a chat room opened or a deal created
DEAL_CREATED = "deal_created"  # a deal created
WON_CREATED = "won_created"  # a won deal, by the day it was created
WON_CLOSED = "won_closed"  # a won deal, by the day it closed (paying customers)
LOST_CLOSED = "lost_closed"  # a lost deal, by the day it closed; dim = lost reason label
GAP_METRICS = (ACTIVE, DEAL_CREATED, WON_CREATED, WON_CLOSED, LOST_CLOSED)


def seen_later(metric: str) -> str:
    """The name of a metric's rows whose customer was first seen after the event day.

    They are kept apart (with that first-seen day in first_seen_later) because a figure counts
    them only when the customer is in its base: first seen by the end of the period.
    """
    return f"{metric}_seen_later"


# --- DailySum: additive figures per local day ---------------------------------------------------
NEW_CUSTOMERS = "new_customers"  # customers first seen on the day
NEW_BY_SOURCE = "new_by_source"  # the same per source; dim = source ("Other" when empty)
NEW_BY_COMPANY = "new_by_company"  # the same per company; dim = company id ("" for none)
NEW_BY_COUNTRY = "new_by_country"  # the same per country; dim = ISO code or "Other"
NEW_BY_CITY = "new_by_city"  # the same per city; dim = city as written or "Other"
DEAL_VALUE_CREATED = "deal_value_created"  # deals created and their value (cents)
WON_REVENUE = "won_revenue"  # won deals closed and their value (cents)
WON_DEALS = "won_deals"  # won deals closed (all, with or without customer): the §P win rate
LOST_DEALS = "lost_deals"  # lost deals closed (all, with or without customer); dim = reason
LOST_DEALS_OF_CUSTOMERS = "lost_deals_of_customers"  # lost deals closed that belong to a customer
PRODUCT_SALES = "product_sales"  # won deals with the product, quantity, revenue; dim = product id


def all_time(metric: str) -> str:
    """The name of a metric's all-time totals per dim (day 0): a base that ends near today is
    the totals minus the few days after its end, not a sum over every day before it."""
    return f"{metric}_all_time"


DEMOGRAPHIC_METRICS = (NEW_BY_SOURCE, NEW_BY_COMPANY, NEW_BY_COUNTRY, NEW_BY_CITY)
SUM_METRICS = (
    NEW_CUSTOMERS,
    NEW_BY_SOURCE,
    NEW_BY_COMPANY,
    NEW_BY_COUNTRY,
    NEW_BY_CITY,
    DEAL_VALUE_CREATED,
    WON_REVENUE,
    WON_DEALS,
    LOST_DEALS,
    LOST_DEALS_OF_CUSTOMERS,
    PRODUCT_SALES,
    *(all_time(metric) for metric in DEMOGRAPHIC_METRICS),
)
