"""Data-quality lists: records whose identity keys keep them from matching (METRICS.md §2)."""

from django.db.models import Q

from .models import PlaceholderKey

NO_USABLE_KEY = "no_key"
BAD_PHONE = "bad_phone"
BAD_EMAIL = "bad_email"
PROBLEMS = {
    NO_USABLE_KEY: "no usable key",
    BAD_PHONE: "phone did not parse",
    BAD_EMAIL: "email not valid",
}


def problem_q(problem: str | None = None) -> Q:
    """Records with the given problem (any problem when None).

    No usable key: neither key exists or each is a placeholder, so the record is alone.
    Phone did not parse: a phone is typed but gives no key; same for the email.
    """
    placeholders = PlaceholderKey.objects.values("key")
    no_email = Q(email_key="") | Q(email_key__in=placeholders)
    no_phone = Q(phone_key="") | Q(phone_key__in=placeholders)
    conditions = {
        NO_USABLE_KEY: no_email & no_phone,
        BAD_PHONE: Q(phone_key="") & ~Q(phone=""),
        BAD_EMAIL: Q(email_key="") & ~Q(email=""),
    }
    if problem is not None:
        return conditions[problem]
    return conditions[NO_USABLE_KEY] | conditions[BAD_PHONE] | conditions[BAD_EMAIL]
