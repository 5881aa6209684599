"""The customer search: name, email or phone in any format, for the admin list and the API.

It lives in insights because it reads both kinds of records (CRM and chat contacts), and the
domain apps below do not import each other.
"""

from django.db.models import Exists, OuterRef, Q

from chats.models import ChatContact
from customers.keys import email_key, phone_key
from customers.models import Contact


def customer_search_q(term: str, *, substrings: bool = True) -> Q:
    """Name, email or phone in any format, for the admin list and the API's `search=`.

    A phone or email is reduced to its identity key (METRICS.md section 2) and matched on the
    indexed keys of the customer and of its member records.

    substrings=False (a reader who sees names, emails and phones masked) matches only a whole
    email or phone: substrings of masked fields would let them rebuild the field one
    character at a time (issue 13 item 2).
    """
    text = term.strip()
    q = (
        Q(pk__in=[])
        if not substrings
        else (
            Q(display_name__icontains=text)
            | Q(primary_email__icontains=text)
            | Q(primary_phone=text)
            | Exists(
                Contact.objects.filter(customer_id=OuterRef("pk")).filter(
                    Q(first_name__icontains=text) | Q(last_name__icontains=text)
                )
            )
            | Exists(ChatContact.objects.filter(customer_id=OuterRef("pk"), name__icontains=text))
        )
    )
    for key, field in ((phone_key(text), "phone_key"), (email_key(text), "email_key")):
        if key:
            primary = "primary_phone" if field == "phone_key" else "primary_email__iexact"
            q |= (
                Q(**{primary: key})
                | Exists(Contact.objects.filter(customer_id=OuterRef("pk"), **{field: key}))
                | Exists(ChatContact.objects.filter(customer_id=OuterRef("pk"), **{field: key}))
            )
    return q
