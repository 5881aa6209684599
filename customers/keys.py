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


def single_region_codes() -> dict[str, str]:
    """Calling codes (without '+') that belong to exactly one region: {"62": "ID", ...}.

    Calling codes are prefix-free, so a key's region for these is read off its first digits.
    """
    return {
        str(code): regions[0]
        for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
        if len(regions) == 1 and regions[0] != phonenumbers.UNKNOWN_REGION and regions[0] != "001"
    }


@lru_cache(maxsize=65536)
def phone_key_region(key: str) -> str:
    """ISO 3166-1 alpha-2 region of an E.164 phone key per phonenumbers; '' when it has none.

    A shared calling code (+1, +7, +44) gives the region whose numbering plan the number is
    valid in; a non-geographic code (+800) or a number valid in none of its regions gives ''.
    """
    if not key:
        return ""
    try:
        number = phonenumbers.parse(key, None)
    except phonenumbers.NumberParseException:
        return ""
    region = phonenumbers.region_code_for_number(number)
    return region if region and region != "001" and len(region) == 2 else ""
