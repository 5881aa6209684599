"""Response shapes of the API (CONTRACT.md section 4), with METRICS.md wording as help texts.

Counts are integers; money, percentages, averages and quantities are decimal strings with two
places ("37.50"), so clients never meet float rounding.
"""

from typing import Any

from rest_framework import serializers

from accounts.masking import can_see_personal_data, mask_email, mask_name, mask_phone, mask_text
from insights.periods import GRANULARITIES, PRESETS


def Money(help_text: str, **kwargs: Any) -> serializers.DecimalField:  # noqa: N802
    """A decimal rendered as a string with exactly two places."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=2, coerce_to_string=True, help_text=help_text, **kwargs
    )


def Count(help_text: str, **kwargs: Any) -> serializers.IntegerField:  # noqa: N802
    return serializers.IntegerField(help_text=help_text, **kwargs)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the period P (included).")
    end = serializers.DateField(help_text="Last local date of the period P (included).")
    preset = serializers.ChoiceField(
        choices=PRESETS, allow_null=True, help_text="The preset that named P, or null for dates."
    )
    months = Count("M(P): how many calendar months intersect P (1 Jan–31 Mar is 3).")
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
    total = Count("|Base(b)|: customers first seen on or before the bucket's end.")
    new = Count("Customers first seen in b.")
    inactive = Count(
        "Customers in Base(b) with no chat room created in b and no deal created in b."
    )


class GrowthSerializer(InsightsResponse):
    total_customers = Count("|Base(P)|: customers first seen on or before `end`.")
    new_customers = Count("Customers first seen in P.")
    monthly_avg_new_customers = Money("new_customers / M(P).")
    inactive_customers = Count(
        "Customers in Base(P) with no chat room created in P and no deal created in P."
    )
    monthly_avg_inactive_customers = Money(
        "Mean, over the months m of P, of inactive_customers for the period m ∩ P."
    )
    trend = GrowthBucketSerializer(many=True, help_text="One entry per bucket of P.")


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


# --- C. Sales lifecycle -----------------------------------------------------------------------
class AssociationBucketSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First local date of the bucket b.")
    end = serializers.DateField(help_text="Last local date of the bucket b.")
    customers_with_deals = Count("Customers in Base(b) with at least one deal in Deals(b).")
    total_customers = Count("|Base(b)|.")
    pct = Money("100 × customers_with_deals / total_customers for b.")


class SalesSerializer(InsightsResponse):
    total_customers = Count("|Base(P)|: customers first seen on or before `end`.")
    customers_with_deals = Count(
        "Customers in Base(P) with at least one deal in Deals(P) (deals created in P that "
        "belong to a customer in Base(P))."
    )
    deal_association_pct = Money("100 × customers_with_deals / total_customers.")
    customers_with_won_deals = Count(
        "Customers in Base(P) with at least one deal in Deals(P) that is won (even if it "
        "closed after P)."
    )
    won_customers_pct = Money("100 × customers_with_won_deals / customers_with_deals.")
    total_deal_size = Money("Sum of the values of Deals(P).")
    avg_deal_size_per_customer = Money("total_deal_size / customers_with_deals.")
    association_trend = AssociationBucketSerializer(
        many=True, help_text="Per bucket b: customers_with_deals, total_customers, pct for b."
    )


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
class SegmentSerializer(serializers.Serializer):
    segment = serializers.CharField(help_text="The RFM segment name (METRICS.md order).")
    customers = Count("Customers with a won deal closed in P whose R and F scores give it.")
    revenue = Money("Their monetary: the sum of the values of their won deals closed in P.")


class RfmSerializer(InsightsResponse):
    segments = SegmentSerializer(many=True, help_text="All ten segments in METRICS.md order.")


# --- K. Revenue -------------------------------------------------------------------------------
class RevenueSerializer(InsightsResponse):
    revenue = Money("Values of won deals that belong to a customer, with close date in P.")
    paying_customers = Count("Customers with at least one won deal in P.")
    avg_revenue_per_customer = Money("revenue / paying_customers.")
    top_20pct_revenue_share = Money(
        "Revenue of the top ⌈0.2 × paying_customers⌉ customers by their revenue in P, "
        "as % of revenue."
    )
    avg_lifetime_value = Money(
        "Revenue with close date ≤ end / customers with at least one won deal closed ≤ end."
    )
    one_time_customers = Count(
        "Of the paying_customers, those with exactly 1 won deal closed on or before end."
    )
    repeat_customers = Count(
        "Of the paying_customers, those with 2 or more won deals closed on or before end."
    )


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
    name = serializers.CharField(help_text="The deal name.")
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
    recency_days = Count("end − the latest close date of its won deals in P.", allow_null=True)
    frequency = Count("How many won deals it closed in P.", allow_null=True)
    monetary = Money("Sum of the values of those won deals.", allow_null=True)
    r = Count("Recency score 1–5.", allow_null=True)
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
    explanation = ExplanationEdgeSerializer(
        many=True,
        help_text=(
            "Why these records are one customer: a spanning tree from its first record over "
            "shared phone/email keys (and always-merge rules)."
        ),
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)  # masks the customer's own fields
        if personal_data_masked(self.context):
            for record in data.get("records", []):
                _mask_fields(record, RECORD_PERSONAL_FIELDS)
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
