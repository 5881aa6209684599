"""Response shapes of the API (CONTRACT.md section 4), with METRICS.md wording as help texts.

Counts are integers; money, percentages, averages and quantities are decimal strings with two
places ("37.50"), so clients never meet float rounding.
"""

from datetime import date
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from accounts.masking import can_see_personal_data, mask_email, mask_name, mask_phone, mask_text
from insights.figures import figure_help
from insights.periods import GRANULARITIES, PRESETS
from insights.section_params import AT_RISK_BELOW, health_bands_text

from .comparison_fields import comparison_fields


def Money(help_text: Any, **kwargs: Any) -> serializers.DecimalField:  # noqa: N802
    """A decimal rendered as a string with exactly two places."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=2, coerce_to_string=True, help_text=help_text, **kwargs
    )


def Count(help_text: Any, **kwargs: Any) -> serializers.IntegerField:  # noqa: N802
    return serializers.IntegerField(help_text=help_text, **kwargs)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the period P (included).")
    end = serializers.DateField(help_text="Last local date of the period P (included).")
    preset = serializers.ChoiceField(
        choices=PRESETS, allow_null=True, help_text="The preset that named P, or null for dates."
    )
    months = serializers.CharField(
        help_text=(
            "M(P), the length of P in months, as a decimal string with 4 places: a whole month "
            "counts 1, a part of a month its share of that month's days (1 Jan–31 Mar is "
            '"3.0000"; 6 Nov–5 Dec is "0.9946").'
        )
    )
    granularity = serializers.ChoiceField(
        choices=[g for g in GRANULARITIES if g != "auto"],
        allow_null=True,
        help_text="The resolved bucket granularity of a trend endpoint; null on the others.",
    )


COMPUTED_AT_HELP = (
    "When the last successful rebuild finished (the figures are as of then); null if never."
)


class InsightsResponse(serializers.Serializer):
    period = PeriodSerializer(help_text="The period P the figures are for.")
    computed_at = serializers.DateTimeField(allow_null=True, help_text=COMPUTED_AT_HELP)


# --- A. Growth --------------------------------------------------------------------------------
class GrowthBucketSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the bucket b.")
    end = serializers.DateField(help_text="Last local date of the bucket b.")
    total = Count("Customers first seen on or before the bucket's end.")
    new = Count("Customers first seen in b.")
    inactive = Count(
        "Customers first seen by the end of b with no chat room and no deal created in b."
    )


class GrowthSerializer(InsightsResponse):
    total_customers = Count(figure_help("total_customers"))
    new_customers = Count(figure_help("new_customers"))
    monthly_avg_new_customers = Money(figure_help("monthly_avg_new_customers"))
    inactive_customers = Count(figure_help("inactive_customers"))
    monthly_avg_inactive_customers = Money(figure_help("monthly_avg_inactive_customers"))
    trend = GrowthBucketSerializer(many=True, help_text="One entry per bucket of P.")
    previous, change_pct = comparison_fields("Growth", locals(), "growth")


# --- B. Demographics --------------------------------------------------------------------------
class LabelCountSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="The label as written; `Other` for none.")
    customers = Count("Customers with this label.")


class DemographicsSerializer(InsightsResponse):
    by_source = LabelCountSerializer(
        many=True,
        help_text=(
            "Customers per source (the first non-blank source of their records), `Other` for "
            "none; sorted by count desc, then label."
        ),
    )
    by_company = LabelCountSerializer(
        many=True,
        help_text=(
            "Customers per company (of the first CRM contact that has one), `Other` for none; "
            "sorted by count desc, then label."
        ),
    )
    by_country = LabelCountSerializer(
        many=True,
        help_text=(
            "Customers per country (ISO 3166-1 alpha-2): the country of the first CRM contact "
            "that has one, else the region of the first phone number that has one, else "
            "`Other`; same order. Every list keeps its first `limit` rows, then `All others`."
        ),
    )
    by_city = LabelCountSerializer(
        many=True,
        help_text=(
            "Customers per city as written (of the first CRM contact that has one), `Other` "
            "for none; same order."
        ),
    )


# --- C. Sales lifecycle -----------------------------------------------------------------------
class AssociationBucketSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the bucket b.")
    end = serializers.DateField(help_text="Last local date of the bucket b.")
    customers_with_deals = Count(
        "Customers first seen by the end of b with at least one deal created in b."
    )
    total_customers = Count("Customers first seen on or before the bucket's end.")
    pct = Money("100 × customers_with_deals / total_customers for b.")


class SalesSerializer(InsightsResponse):
    total_customers = Count(figure_help("total_customers"))
    customers_with_deals = Count(figure_help("customers_with_deals"))
    deal_association_pct = Money(figure_help("deal_association_pct"))
    customers_with_won_deals = Count(figure_help("customers_with_won_deals"))
    won_customers_pct = Money(figure_help("won_customers_pct"))
    total_deal_size = Money(figure_help("total_deal_size"))
    avg_deal_size_per_customer = Money(figure_help("avg_deal_size_per_customer"))
    association_trend = AssociationBucketSerializer(
        many=True, help_text="Per bucket b: customers_with_deals, total_customers, pct for b."
    )
    previous, change_pct = comparison_fields("Sales", locals(), "sales")


# --- E. Lost reasons --------------------------------------------------------------------------
class LostReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="The lost reason as written; `Unspecified` if blank.")
    deals = Count("Lost deals with this reason whose close date is in P.")
    customers = Count("Distinct customers among those deals that belong to one.")


class LostReasonsSerializer(InsightsResponse):
    reasons = LostReasonSerializer(many=True, help_text="Sorted by deals desc, then reason.")


# --- F. Top products --------------------------------------------------------------------------
class ProductSerializer(serializers.Serializer):
    product = serializers.CharField(help_text="The product name as written.")
    won_deals = Count("Distinct won deals closed in P that include the product.")
    quantity = Money("Sum of the quantity on those deals' lines.")
    revenue = Money("Sum of line revenue (quantity × unit_price) on those deals' lines.")


class TopProductsSerializer(InsightsResponse):
    products = ProductSerializer(
        many=True,
        help_text="Products of won deals whose close date is in P, with or without a customer.",
    )


# --- R. RFM -----------------------------------------------------------------------------------
# "segment" in the JSON and the schema's component name is the published contract (CONTRACT.md);
# in the code the ten names are RFM groups, and "segment" means a saved segment.
@extend_schema_serializer(component_name="Segment")
class RfmGroupSerializer(serializers.Serializer):
    segment = serializers.CharField(help_text="The RFM segment name.")
    customers = Count("Customers with a won deal closed in P whose R and F scores give it.")
    revenue = Money("Their monetary: the sum of the values of their won deals closed in P.")


class RfmSerializer(InsightsResponse):
    segments = RfmGroupSerializer(
        many=True,
        help_text=(
            "All ten segments in this order: Champions, Loyal Customers, Potential Loyalists, "
            "New Customers, Promising, Need Attention, About To Sleep, Can't Lose Them, At Risk, "
            "Hibernating."
        ),
    )


# --- K. Revenue -------------------------------------------------------------------------------
class RevenueSerializer(InsightsResponse):
    revenue = Money(figure_help("revenue"))
    paying_customers = Count(figure_help("paying_customers"))
    avg_revenue_per_customer = Money(figure_help("avg_revenue_per_customer"))
    top_20pct_revenue_share = Money(figure_help("top_20pct_revenue_share"))
    avg_lifetime_value = Money(figure_help("avg_lifetime_value"))
    one_time_customers = Count(figure_help("one_time_customers"))
    repeat_customers = Count(figure_help("repeat_customers"))
    won_deals = Count("Won deals closed in P that belong to a customer.")
    avg_order_value = Money("revenue / won_deals.")
    win_rate_pct = Money(
        "100 × won_deals / (won_deals + lost deals closed in P that belong to a customer)."
    )
    revenue_per_day = Money("revenue / days(P), the whole period's days even past today.")
    new_customers_per_day = Money("Customers first seen in P / days(P).")
    hours_per_new_customer = Money(
        "24 × days(P) / customers first seen in P: a new customer every … hours; 0 when none."
    )
    previous, change_pct = comparison_fields("Revenue", locals(), "revenue")


# --- Customers --------------------------------------------------------------------------------
class CompanyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The company id (the `company` filter value).")
    name = serializers.CharField(help_text="The company name as written.")


def personal_data_masked(context: dict[str, Any]) -> bool:
    """Whether the reader of this response lacks accounts.view_personal_data.

    Fails closed: without a request in the context there is no user to vouch for, so masked.
    The permission check is cached on the user object after its first call (the API's own
    view_insights check made it), so masking costs no query per row.
    """
    request = context.get("request")
    return not can_see_personal_data(getattr(request, "user", None))


PERSONAL_FIELDS = (
    ("display_name", mask_name),
    ("primary_email", mask_email),
    ("primary_phone", mask_phone),
)
RECORD_PERSONAL_FIELDS = (
    ("name", mask_name),
    ("email", mask_email),
    ("phone", mask_phone),
    ("email_key", mask_email),
    ("phone_key", mask_phone),
)


def _mask_fields(data: dict[str, Any], fields: tuple) -> None:
    for name, mask in fields:
        if name in data:
            data[name] = mask(data[name])


class CustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Stable across rebuilds while its records last.")
    display_name = serializers.CharField(
        help_text="The name shown for the customer; masked (`A** W*****`) without "
        "view_personal_data."
    )
    primary_email = serializers.CharField(
        help_text="The email shown for the customer; masked (`a***@x.id`) without "
        "view_personal_data."
    )
    primary_phone = serializers.CharField(
        help_text="The phone shown for the customer (E.164); masked (`+62 812 **** 7890`) "
        "without view_personal_data."
    )
    source = serializers.CharField(
        help_text="Source of the first record (by created_at, CRM before chat) with one; `Other`."
    )
    company = CompanyRefSerializer(
        allow_null=True, help_text="Company of the first CRM contact that has one; null: Other."
    )
    first_seen_at = serializers.DateTimeField(help_text="Earliest created_at of its records.")
    record_count = Count("How many CRM and chat contacts make up this customer.")
    lifetime_revenue = Money(
        "Values of its won deals of all time, as of the last rebuild; null before one.",
        allow_null=True,
    )
    p_alive = serializers.FloatField(
        allow_null=True,
        help_text=(
            "The probability that this customer still buys from you (BG/NBD, as of today, "
            "from its buying days); null when it has no buying day or the model is not fitted."
        ),
    )
    predicted_clv = Money(
        "Predicted value of its won deals in the next 365 days: expected buying days × "
        "expected value of a buying day (BG/NBD + Gamma-Gamma, not discounted); null as p_alive.",
        allow_null=True,
    )
    health = serializers.IntegerField(
        source="health_score",
        allow_null=True,
        help_text=(
            "Customer health as of today, 0 to 100: the weighted mean of the "
            "purchase, recency, service and voice components it has; null without a buying day."
        ),
    )
    health_band = serializers.CharField(
        allow_null=True,
        help_text=f"{health_bands_text()}; null as health.",
    )
    country = serializers.CharField(
        required=False,
        help_text="ISO 3166-1 alpha-2: of the first CRM contact that has one, else the region "
        "of the first phone number that has one; `Other`.",
    )
    city = serializers.CharField(
        required=False, help_text="City of the first CRM contact that has one; `Other`."
    )
    last_purchase = serializers.SerializerMethodField(
        help_text="Local close date of its latest won deal; null when none."
    )
    rfm_segment = serializers.SerializerMethodField(
        help_text="RFM segment for the list's RFM period (rfm_start..rfm_end, else start..end, "
        "else last_30_days); null without a won deal closed in it."
    )

    def get_last_purchase(self, instance: Any) -> str | None:
        day = getattr(instance, "last_purchase_day", None)
        return date.fromordinal(day).isoformat() if day else None

    def get_rfm_segment(self, instance: Any) -> str | None:
        return self.context.get("rfm_groups", {}).get(instance.pk)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if personal_data_masked(self.context):
            _mask_fields(data, PERSONAL_FIELDS)
        return data


class RecordSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=("contact", "chat_contact"),
        help_text="`contact`: a CRM contact; `chat_contact`: one chat channel identity.",
    )
    id = serializers.IntegerField(help_text="The record's id (in its own table).")
    external_id = serializers.CharField(allow_null=True, help_text="Id in the source system.")
    name = serializers.CharField(help_text="The name on the record.")
    email = serializers.CharField(help_text="As typed.")
    phone = serializers.CharField(help_text="As typed.")
    email_key = serializers.CharField(help_text="Trimmed, lower-cased email; empty: no key.")
    phone_key = serializers.CharField(help_text="E.164 phone; empty: no key.")
    source = serializers.CharField(help_text="A CRM contact's source, a chat contact's channel.")
    company = CompanyRefSerializer(allow_null=True, help_text="A CRM contact's company.")
    created_at = serializers.DateTimeField(help_text="When the record was created.")


class ProductRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The product id.")
    name = serializers.CharField(help_text="The product name as written.")


class DealItemSerializer(serializers.Serializer):
    product = ProductRefSerializer(help_text="The product on the line.")
    quantity = Money("Quantity on the line.")
    unit_price = Money("Unit price.")
    revenue = Money("quantity × unit_price.")


class DealSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The deal id.")
    external_id = serializers.CharField(allow_null=True, help_text="Id in the source system.")
    name = serializers.CharField(
        help_text="The deal name as typed; masked word by word (`M**** A******** – N**`) "
        "without view_personal_data, since reps put people's names in it."
    )
    stage = serializers.CharField(help_text="The pipeline stage name.")
    status = serializers.ChoiceField(
        choices=("won", "lost", "open"),
        help_text=(
            "lost when its stage's outcome is lost; otherwise won when its stage's outcome is "
            "won or its win probability is 100; otherwise open."
        ),
    )
    amount = Money("The deal's value.")
    currency = serializers.CharField(help_text="One currency per installation.")
    created_at = serializers.DateTimeField(help_text="When the deal was created.")
    closed_at = serializers.DateTimeField(
        allow_null=True, help_text="When it closed; its close date falls back to created_at."
    )
    expected_close_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the rep expects the deal to close; null: undated (no expected close).",
    )
    lost_reason = serializers.CharField(allow_null=True, help_text="The lost reason, if any.")
    items = DealItemSerializer(many=True, help_text="Line items; revenue = quantity × unit_price.")


class ChatRoomSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The chat room id.")
    external_id = serializers.CharField(allow_null=True, help_text="Id in the source system.")
    chat_contact_id = serializers.IntegerField(help_text="The chat contact (record) it belongs to.")
    channel = serializers.CharField(help_text="That chat contact's channel.")
    created_at = serializers.DateTimeField(help_text="When the room was opened.")
    resolved_at = serializers.DateTimeField(allow_null=True, help_text="When it was resolved.")
    agent = serializers.CharField(help_text="The agent who handled it.")
    csat_score = serializers.IntegerField(allow_null=True, help_text="CSAT score 1–5, if rated.")
    first_response_at = serializers.DateTimeField(
        allow_null=True, help_text="When an agent first answered, if they did."
    )
    first_response_s = serializers.IntegerField(
        allow_null=True,
        help_text="first_response_at − created_at in whole seconds (rounded down); null if none.",
    )
    resolution_s = serializers.IntegerField(
        allow_null=True,
        help_text="resolved_at − created_at in whole seconds (rounded down); null if unresolved.",
    )


class SurveyResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The survey response id.")
    external_id = serializers.CharField(allow_null=True, help_text="Id in the source system.")
    kind = serializers.CharField(help_text="`nps` (score 0–10) or `ces` (customer effort, 1–7).")
    score = serializers.IntegerField(help_text="The score given.")
    comment = serializers.CharField(
        help_text="The comment, masked for a user without personal-data permission."
    )
    created_at = serializers.DateTimeField(help_text="When it was answered.")
    record_kind = serializers.CharField(help_text="`contact` or `chat_contact`: how it came.")
    record_id = serializers.IntegerField(help_text="The id of that record.")


class CustomerRfmSerializer(serializers.Serializer):
    period = PeriodSerializer(help_text="The period the scores are computed for.")
    recency_days = Count(
        "A − the latest close date of its won deals in P (A = min(end, today), the as-of "
        "date; 0 when negative).",
        allow_null=True,
    )
    frequency = Count("How many won deals it closed in P.", allow_null=True)
    monetary = Money("Sum of the values of those won deals.", allow_null=True)
    r = Count(
        "Recency score 1–5 by where in P the last purchase fell: with L = max(1, A − start + 1), "
        "R = 5 − min(4, floor(5 × recency_days / L)); the latest fifth of P scores 5.",
        allow_null=True,
    )
    f = Count("Frequency score 1–5.", allow_null=True)
    m = Count("Monetary score 1–5.", allow_null=True)
    segment = serializers.CharField(
        allow_null=True, help_text="RFM segment; null when no won deal closed in P."
    )


class ExplanationEdgeSerializer(serializers.Serializer):
    # Optional fields: the edge comes from customers.identity, which owns its shape.
    source = serializers.CharField(
        required=False, help_text='The record already linked, e.g. "CRM contact 12".'
    )
    target = serializers.CharField(required=False, help_text="The record it brought in.")
    via = serializers.CharField(
        required=False, help_text='"phone", "email" or "always-merge rule".'
    )
    key = serializers.CharField(required=False, help_text="The shared key; empty for a rule.")


class CustomerDetailSerializer(CustomerSerializer):
    records = RecordSerializer(many=True, help_text="CRM contacts and chat contacts merged here.")
    deals = DealSerializer(many=True, help_text="Deals of its CRM contacts, newest first.")
    chat_rooms = ChatRoomSerializer(many=True, help_text="Rooms of its chat contacts.")
    survey_responses = SurveyResponseSerializer(
        many=True, help_text="NPS and CES answers given through its records, newest first."
    )
    rfm = CustomerRfmSerializer(help_text="RFM scores for the requested period.")
    expected_purchases = serializers.FloatField(
        allow_null=True,
        help_text="Expected number of buying days in the next 365 days (BG/NBD); null as p_alive.",
    )
    health_components = serializers.SerializerMethodField(
        help_text=(
            "The health components as of today, each 0 to 100 or null when absent: `purchase` "
            "(100 × P(alive)), `recency` (from the days since the last buying day), `service` "
            "(share of its rated chat rooms of the last 180 days scoring 4-5), `voice` (its "
            "latest NPS answer of the last year); all null without a buying day."
        )
    )
    explanation = ExplanationEdgeSerializer(
        many=True,
        help_text=(
            "Why these records are one customer: a spanning tree from its first record over "
            "shared phone/email keys (and always-merge rules)."
        ),
    )

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                name: {"type": "number", "nullable": True}
                for name in ("purchase", "recency", "service", "voice")
            },
        }
    )
    def get_health_components(self, instance: Any) -> dict[str, float | None]:
        return {
            name: getattr(instance, f"health_{name}", None)
            for name in ("purchase", "recency", "service", "voice")
        }

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)  # masks the customer's own fields
        if personal_data_masked(self.context):
            for record in data.get("records", []):
                _mask_fields(record, RECORD_PERSONAL_FIELDS)
            for deal in data.get("deals", []):
                deal["name"] = mask_name(deal["name"])  # free text: "Modul Akuntansi – Nur"
            for response in data.get("survey_responses", []):
                response["comment"] = mask_text(response["comment"])
            for edge in data.get("explanation", []):
                # The shared key is a phone or an email; a rule's key is empty.
                key = edge.get("key")
                if key:
                    edge["key"] = mask_email(key) if "@" in key else mask_phone(key)
        return data


class MergedCustomerSerializer(serializers.Serializer):
    merged_into = serializers.IntegerField(help_text="The id of the customer that absorbed it.")
    detail = serializers.CharField(help_text="A sentence saying so.")


class ErrorsSerializer(serializers.Serializer):
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per parameter name, what is wrong with it.",
    )


# --- V. Predicted customer value --------------------------------------------------------------
def Model(help_text: str) -> serializers.FloatField:  # noqa: N802
    """A model output: a JSON number, null when the model could not be fitted."""
    return serializers.FloatField(allow_null=True, help_text=help_text)


class ValueParametersSerializer(serializers.Serializer):
    r = Model("Purchase model: shape of the gamma distribution of buying rates across customers.")
    alpha = Model("Purchase model: scale of that gamma distribution, in days.")
    a = Model("Purchase model: first shape of the beta distribution of the drop-out probability.")
    b = Model("Purchase model: second shape of that beta distribution.")
    p = Model("Gamma-Gamma: shape of the value of one buying day.")
    q = Model("Gamma-Gamma: shape of the gamma distribution of customers' value scales.")
    gamma = Model("Gamma-Gamma: scale of that distribution (in money).")


class HoldoutRowSerializer(serializers.Serializer):
    x = serializers.CharField(help_text='Repeat buying days in calibration: "0" to "6", "7+".')
    customers = Count("Calibrated customers with this x.")
    actual = Model("Their mean number of buying days in (A, A + H].")
    expected = Model("Their mean expected number of buying days in (A, A + H].")


class HoldoutSerializer(serializers.Serializer):
    actual_purchases = Count("Buying days in (A, A + H] of the calibrated customers.")
    expected_purchases = Model("Sum of the calibrated customers' expected buying days.")
    by_x = HoldoutRowSerializer(many=True, help_text="The check per x = 0, 1, …, 6, 7+.")


class CustomerValueSerializer(InsightsResponse):
    fitted = serializers.BooleanField(
        help_text=(
            "false when the models could not be fitted (fewer than 10 customers with a repeat "
            "buying day, no convergence, or a maximum at a limit of the parameters); the model "
            "figures are then null."
        )
    )
    model = serializers.ChoiceField(
        choices=["mbgnbd", "bgnbd"], help_text="The purchase model the figures come from."
    )
    as_of = serializers.DateField(
        help_text="A = min(end, today): calibration uses the buying days on or before A."
    )
    horizon = Count("H in days: predictions are for the days after A up to A + H.")
    parameters = ValueParametersSerializer(
        help_text="Maximum-likelihood parameters (time unit one day); all null when not fitted."
    )
    log_likelihood = Model(
        "Log-likelihood of the purchase model plus Gamma-Gamma at those parameters."
    )
    customers = Count(
        "Customers with at least one buying day (won deal close date) on or before A."
    )
    predicted_revenue = Money(
        "Sum over those customers of predicted_clv = expected buying days in (A, A + H] × "
        "expected value of a buying day (not discounted).",
        allow_null=True,
    )
    customers_at_risk = Count(
        f"Customers whose probability of still buying (P(alive)) is below {AT_RISK_BELOW} (with "
        "bgnbd, "
        "only those with a repeat buying day).",
        allow_null=True,
    )
    revenue_at_risk = Money("Their revenue (won deals) closed on or before A.", allow_null=True)
    p_alive_histogram = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text="Customers per tenth of P(alive): [0, 0.1), [0.1, 0.2), …, [0.9, 1.0].",
    )
    holdout = HoldoutSerializer(
        allow_null=True,
        help_text=(
            "When A + H is on or before today: buying days that actually happened in "
            "(A, A + H] beside the model's expectation; otherwise null."
        ),
    )
