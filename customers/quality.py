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


def record_problems(
    *, email: str, phone: str, email_key: str, phone_key: str, placeholders: set[str]
) -> list[str]:
    """The problems of one record, by the rule of problem_q, for a record already in memory.

    `placeholders` is the set of PlaceholderKey keys; the admin reads it once per page.
    """
    found = []
    if (not email_key or email_key in placeholders) and (
        not phone_key or phone_key in placeholders
    ):
        found.append(PROBLEMS[NO_USABLE_KEY])
    if phone.strip() and not phone_key:
        found.append(PROBLEMS[BAD_PHONE])
    if email.strip() and not email_key:
        found.append(PROBLEMS[BAD_EMAIL])
    return found
