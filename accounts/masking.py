"""Masked forms of personal data, for users without accounts.view_personal_data.

Each keeps just enough to tell records apart at a glance (first letters, the email's domain,
the phone's country code, operator prefix and last digits) and nothing that identifies a person.
"""

from typing import Any

import phonenumbers

from accounts.roles import VIEW_PERSONAL_DATA


def can_see_personal_data(user: Any) -> bool:
    """True for a user holding accounts.view_personal_data (superusers hold every permission)."""
    return bool(user is not None and user.is_authenticated and user.has_perm(VIEW_PERSONAL_DATA))


def mask_name(name: str | None) -> str:
    """ "Ani Wijaya" → "A** W*****": each word keeps its first letter."""
    if not name:
        return name or ""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split())


def mask_email(email: str | None) -> str:
    """ "ani@x.id" → "a***@x.id": the local part keeps its first letter, the domain stays."""
    if not email:
        return email or ""
    local, at, domain = email.strip().rpartition("@")
    if not at:  # not an email: mask it whole
        return mask_name(email)
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None, *, region: str = "ID") -> str:
    """ "+6281234567890" → "+62 812 **** 7890": country code, first 3 and last 4 national digits.

    A short number keeps at most its last 2 digits; a number phonenumbers cannot parse keeps
    only its last 4 digits (of more than 4).
    """
    if not phone:
        return phone or ""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        digits = "".join(ch for ch in phone if ch.isdigit())
        return f"**** {digits[-4:]}" if len(digits) > 4 else "****"
    national = str(parsed.national_number)
    if len(national) <= 7:  # too short to show both ends: at most the last 2 of 6 or 7 digits
        tail = f" {national[-2:]}" if len(national) >= 6 else ""
        return f"+{parsed.country_code} ****{tail}"
    return f"+{parsed.country_code} {national[:3]} **** {national[-4:]}"


def mask_text(text: str | None) -> str:
    """A free-text note (a survey comment) is hidden whole: "*** (24 characters)"."""
    if not text:
        return text or ""
    return f"*** ({len(text)} characters)"
