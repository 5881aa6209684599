"""Identity keys of a record (METRICS.md section 2): normalised phone and email.

Computed once when a record is written and stored beside what was typed, so matching
never re-parses.
"""

from functools import lru_cache

import phonenumbers
from django.conf import settings


def email_key(raw: str | None) -> str:
    """Trimmed, lower-cased email; '' when it lacks exactly one '@' with text on both sides."""
    if not raw:
        return ""
    value = raw.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain:
        return ""
    return value


def phone_key(raw: str | None, region: str | None = None) -> str:
    """E.164 form of a possible phone number parsed with the default region; '' otherwise."""
    if not raw or not raw.strip():
        return ""
    return _phone_key(raw.strip(), region or settings.INSIGHTS_DEFAULT_REGION)


@lru_cache(maxsize=65536)
def _phone_key(raw: str, region: str) -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
