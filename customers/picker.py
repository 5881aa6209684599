"""What the admin's contact picker shows: enough to tell two "Andi Nasution" apart.

The name, then the company and the phone or email (masked for readers without
accounts.view_personal_data), so Enter does not save a deal on the wrong person.
"""

from __future__ import annotations

from accounts.masking import mask_email, mask_phone

from .models import Contact


def contact_picker_label(contact: Contact, *, masked: bool) -> str:
    """'Andi Nasution · PT Maju · +62 812 **** 7890' (company and contact detail when known)."""
    parts = [str(contact)]
    if contact.company_id is not None:
        parts.append(contact.company.name)
    if contact.phone:
        parts.append(mask_phone(contact.phone) if masked else contact.phone)
    elif contact.email:
        parts.append(mask_email(contact.email) if masked else contact.email)
    if contact.external_id and len(parts) == 1:
        parts.append(contact.external_id)
    return " · ".join(parts)
