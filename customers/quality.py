"""Data-quality lists: records whose identity keys keep them from matching (METRICS.md §2).

The rule is written once, as SQL conditions: problem_q() filters by it and
problems_annotate() puts each problem on the rows as a boolean, so the admin shows exactly
what the filter selected (no Python restatement that could drift).
"""

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet

from .models import PlaceholderKey

NO_USABLE_KEY = "no_key"
BAD_PHONE = "bad_phone"
BAD_EMAIL = "bad_email"
PROBLEMS = {
    NO_USABLE_KEY: "no usable key",
    BAD_PHONE: "phone did not parse",
    BAD_EMAIL: "email not valid",
}


def _placeholder(column: str) -> Exists:
    return Exists(PlaceholderKey.objects.filter(key=OuterRef(column)))


def _conditions() -> dict[str, Q]:
    """No usable key: neither key exists or each is a placeholder, so the record is alone.
    Phone did not parse: a phone is typed but gives no key; same for the email.
    """
    no_email = Q(email_key="") | Q(_placeholder("email_key"))
    no_phone = Q(phone_key="") | Q(_placeholder("phone_key"))
    return {
        NO_USABLE_KEY: no_email & no_phone,
        BAD_PHONE: Q(phone_key="") & ~Q(phone=""),
        BAD_EMAIL: Q(email_key="") & ~Q(email=""),
    }


def problem_q(problem: str | None = None) -> Q:
    """Records with the given problem (any problem when None)."""
    conditions = _conditions()
    if problem is not None:
        return conditions[problem]
    return conditions[NO_USABLE_KEY] | conditions[BAD_PHONE] | conditions[BAD_EMAIL]


def problems_annotate(queryset: QuerySet) -> QuerySet:
    """Each row gains `problem_<name>` booleans and `email_placeholder` / `phone_placeholder`."""
    flags = {
        f"problem_{name}": ExpressionWrapper(condition, output_field=BooleanField())
        for name, condition in _conditions().items()
    }
    return queryset.annotate(
        **flags,
        email_placeholder=_placeholder("email_key"),
        phone_placeholder=_placeholder("phone_key"),
    )


def records_to_fix(*, queryset: QuerySet, problem: str | None = None) -> QuerySet:
    return queryset.filter(problem_q(problem))
