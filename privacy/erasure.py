"""Erasure of one person (UU PDP No. 27/2022 art. 8, GDPR art. 17): every record, key and figure.

What goes, in one transaction:
- the person's CRM contacts and chat contacts: those resolved to the customer, plus records not
  yet resolved (customer NULL, added since the last rebuild) that share one of their email or
  phone keys, so a fresh import of the same person does not survive the erasure. Placeholder
  keys (shared by many records, METRICS.md section 2) do not pull records in: they are not one
  person's;
- their chat rooms (cascade) and the match rules naming their records (cascade);
- the Customer row, its merged ids (CustomerAlias) and its CustomerStats (cascade);
- identity-change log rows still carrying their keys.

Deals are NOT deleted: a deal is the company's revenue history (won revenue, pipeline, lost
reasons of the company stay true), but its link to the person is cut (contact set to NULL), so
no deal leads back to them; the person's names are cut out of those deals' free-text names.

No string of the person stays anywhere (issue 13 item 6): identity-change rows lose the erased
keys, the export log's recorded filters that name them are redacted, and admin "Recent
actions" entries about their records (or naming them) are redacted.

After the erasure commits, `person_erased` is sent; insights answers it by queueing a rebuild
(never waiting for a running one: the erasure answers at once) or, without a broker, by saying
the figures update at the next rebuild. privacy never imports insights.

The audit entry (audit.ErasureRecord) keeps who, when, the customer's former id and counts,
never a name, email, phone or key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import OperationalError, connection, transaction
from django.db.models import CharField, Model, Q, TextField
from django.db.models.functions import Cast
from django.dispatch import Signal

from audit.models import ErasureRecord, ExportRecord
from audit.services import erasure_record_create
from chats.models import ChatContact, ChatContactToFix, ChatRoom, SurveyResponse
from customers.keys import email_key, phone_key
from customers.models import (
    Company,
    Contact,
    ContactToFix,
    Customer,
    CustomerAlias,
    IdentityChange,
    MatchRule,
    PlaceholderKey,
)
from deals.models import Deal, DealItem, LostReason, PipelineStage, Product

from .import_traces import PersonMatcher, import_jobs_redact

# Sent once the erasure has committed, with `record` (the ErasureRecord). A receiver returns a
# sentence for the person who erased (what happens to the figures), or None.
person_erased = Signal()

# Sent inside the erasure's transaction, before it commits, with `needles` (the person's
# emails, phones, identity keys and full names, as stored): an app above privacy cuts the person
# out of its own text (insights: saved segment names) and returns {what: how many}.
person_erasing = Signal()

# How long an erasure waits for rows a running rebuild is rewriting (PostgreSQL) before it
# gives up with ErasureBusy, so the request answers instead of hanging until a worker timeout.
LOCK_TIMEOUT = "5s"


class ErasureBusy(Exception):
    """The person's rows are locked by a running rebuild; nothing was erased, try again."""


# Shorter strings (initials, "Jo") would redact unrelated text; keys and emails are longer.
MIN_REDACTED_LENGTH = 3
REDACTED = "[erased]"


@dataclass
class Erasure:
    record: ErasureRecord
    # What the receivers of person_erased said (filled when the erasure commits).
    follow_up: list[str] = field(default_factory=list)


def _person_records(*, customer: Customer) -> tuple[list[int], list[int], set[str]]:
    """Ids of the person's CRM and chat contacts, and their keys that are not placeholders."""
    rows = list(
        Contact.objects.filter(customer=customer).values_list("id", "email_key", "phone_key")
    )
    chat_rows = list(
        ChatContact.objects.filter(customer=customer).values_list("id", "email_key", "phone_key")
    )
    keys = {key for _, e, p in rows + chat_rows for key in (e, p) if key}
    matchable = keys - set(
        PlaceholderKey.objects.filter(key__in=keys).values_list("key", flat=True)
    )
    if matchable:
        unresolved = Q(customer__isnull=True) & (
            Q(email_key__in=matchable) | Q(phone_key__in=matchable)
        )
        extra = list(Contact.objects.filter(unresolved).values_list("id", "email_key", "phone_key"))
        chat_extra = list(
            ChatContact.objects.filter(unresolved).values_list("id", "email_key", "phone_key")
        )
        rows += extra
        chat_rows += chat_extra
        matchable |= {key for _, e, p in extra + chat_extra for key in (e, p) if key}
    # Placeholder keys stay in the change log: they are not this person's, and a placeholder
    # that falls under the fan-out limit must still be revisited.
    matchable -= set(PlaceholderKey.objects.filter(key__in=matchable).values_list("key", flat=True))
    return [r[0] for r in rows], [r[0] for r in chat_rows], matchable


def _person_strings(*, customer: Customer, contact_ids: list[int], chat_ids: list[int]) -> set[str]:
    """Every name, email, phone and key of the person, as stored (to find and redact)."""
    strings = {customer.display_name, customer.primary_email, customer.primary_phone}
    for first, last, email, phone, e_key, p_key in Contact.objects.filter(
        id__in=contact_ids
    ).values_list("first_name", "last_name", "email", "phone", "email_key", "phone_key"):
        strings |= {first, last, f"{first} {last}".strip(), email, phone, e_key, p_key}
    for name, email, phone, e_key, p_key in ChatContact.objects.filter(id__in=chat_ids).values_list(
        "name", "email", "phone", "email_key", "phone_key"
    ):
        strings |= {name, email, phone, e_key, p_key}
    return {s.strip() for s in strings if s and len(s.strip()) >= MIN_REDACTED_LENGTH}


def _person_needles(*, customer: Customer, contact_ids: list[int], chat_ids: list[int]) -> set[str]:
    """The strings that name the person in anyone's text: emails, phones and full names.

    A first or last name alone is not among them (another "Budi" is not this one); those cut
    only out of the person's own deals (_traces_redact).
    """
    strings = {customer.primary_email, customer.primary_phone, customer.display_name}
    for first, last, email, phone in Contact.objects.filter(id__in=contact_ids).values_list(
        "first_name", "last_name", "email", "phone"
    ):
        strings |= {email, phone, f"{first} {last}" if first and last else ""}
    for name, email, phone in ChatContact.objects.filter(id__in=chat_ids).values_list(
        "name", "email", "phone"
    ):
        strings |= {email, phone, name if name and " " in name.strip() else ""}
    return {s.strip() for s in strings if s and len(s.strip()) >= MIN_REDACTED_LENGTH}


# Tables whose free text may name anyone: another rep's deal "Call back nur@example.com", a
# survey comment, a company's name. (The identity tables are erased or keyed, not free text.)
def _free_text_models() -> list[type[Model]]:
    return [Deal, DealItem, LostReason, PipelineStage, Product, Company, ChatRoom, SurveyResponse]


def _free_text_redact(*, needles: set[str], keys: set[str]) -> dict[str, int]:
    """Cut the person's emails, phones, keys and full names out of every free-text column."""
    if not needles:
        return {"free_text_redacted": 0}
    pattern = re.compile(
        "|".join(re.escape(s) for s in sorted(needles, key=len, reverse=True)), re.IGNORECASE
    )
    redacted = 0
    for model in _free_text_models():
        columns = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, CharField | TextField)
            and not f.choices
            and not f.name.endswith("_key")
        ]
        for f in columns:
            for obj in model._default_manager.filter(_text_q(f.name, needles)).only("pk", f.name):
                value = getattr(obj, f.name)
                # A unique column (an external id) stays unique: each gets its own mark.
                mark = f"{REDACTED}-{obj.pk}" if f.unique else REDACTED
                new = pattern.sub(mark, value)
                if f.max_length:
                    new = new[: f.max_length]
                model._default_manager.filter(pk=obj.pk).update(**{f.name: new})
                redacted += 1
    return {"free_text_redacted": redacted}


def _mentions(strings: set[str], text: str) -> bool:
    lowered = text.lower()
    return any(s.lower() in lowered for s in strings)


def _text_q(column: str, strings: set[str]) -> Q:
    q = Q(pk__in=[])
    for s in strings:
        q |= Q(**{f"{column}__icontains": s})
    return q


def _traces_redact(
    *,
    strings: set[str],
    keys: set[str],
    contact_ids: list[int],
    chat_ids: list[int],
    customer_id: int,
    deal_ids: list[int],
) -> dict[str, int]:
    """Cut the person out of the free text and logs that outlive their records."""
    counts = {}
    # Deal names are free text: "Modul Akuntansi – Nur Nasution" keeps its product part.
    pattern = re.compile(
        "|".join(re.escape(s) for s in sorted(strings, key=len, reverse=True)), re.IGNORECASE
    )
    renamed = 0
    for deal in Deal.objects.filter(id__in=deal_ids).filter(_text_q("name", strings)):
        deal.name = pattern.sub(REDACTED, deal.name)[: Deal._meta.get_field("name").max_length]
        deal.save(update_fields=["name"])
        renamed += 1
    counts["deal_names_redacted"] = renamed
    # The export log keeps the filters an export ran with; a search for them names them,
    # in whatever format it was typed, so searches are also compared by identity key.
    redacted = 0
    exports = ExportRecord.objects.annotate(text=Cast("params", TextField())).exclude(params={})
    for export in exports.iterator():
        values = [str(v) for v in _flatten(export.params)]
        typed_keys = {k for v in values for k in (email_key(v), phone_key(v)) if k}
        if _mentions(strings, export.text) or typed_keys & keys:
            export.params = {"redacted": f"erasure of customer {customer_id}"}
            export.save(update_fields=["params"])
            redacted += 1
    counts["export_filters_redacted"] = redacted
    # Admin "Recent actions" name the object as it was (object_repr): those of the person's
    # records, and any other entry naming them, keep the action but lose the words.
    types = ContentType.objects.get_for_models(
        Contact, ContactToFix, ChatContact, ChatContactToFix, Customer, for_concrete_models=False
    )
    ids_of = {
        types[Contact]: contact_ids,
        types[ContactToFix]: contact_ids,
        types[ChatContact]: chat_ids,
        types[ChatContactToFix]: chat_ids,
        types[Customer]: [customer_id],
    }
    theirs = Q(pk__in=[])
    for content_type, ids in ids_of.items():
        theirs |= Q(content_type=content_type, object_id__in=[str(i) for i in ids])
    entries = LogEntry.objects.filter(
        theirs | _text_q("object_repr", strings) | _text_q("change_message", strings)
    )
    counts["admin_log_redacted"] = entries.update(object_repr=REDACTED, change_message="")
    return counts


def _flatten(value: object) -> list[object]:
    if isinstance(value, dict):
        return [item for v in value.values() for item in _flatten(v)]
    if isinstance(value, list):
        return [item for v in value for item in _flatten(v)]
    return [value]


def customer_erase(
    *,
    customer: Customer,
    erased_by: AbstractBaseUser | AnonymousUser | None,
) -> Erasure:
    """Erase one person everywhere (see the module docstring); returns the audit entry and
    what the follow-up said (filled once the erasure commits; at once outside a transaction).
    """
    try:
        return _customer_erase(customer=customer, erased_by=erased_by)
    except OperationalError as error:
        if connection.vendor == "postgresql" and "lock timeout" in str(error):
            raise ErasureBusy("a rebuild is rewriting this customer; nothing was erased") from error
        raise


def _customer_erase(
    *, customer: Customer, erased_by: AbstractBaseUser | AnonymousUser | None
) -> Erasure:
    customer_id = customer.pk
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        contact_ids, chat_ids, keys = _person_records(customer=customer)
        strings = _person_strings(customer=customer, contact_ids=contact_ids, chat_ids=chat_ids)
        deal_ids = list(
            Deal.objects.filter(contact_id__in=contact_ids).values_list("id", flat=True)
        )
        needles = _person_needles(customer=customer, contact_ids=contact_ids, chat_ids=chat_ids)
        matcher = PersonMatcher(
            needles=needles | keys,
            keys=keys,
            external_ids=[
                str(i)
                for model, ids in ((Contact, contact_ids), (ChatContact, chat_ids))
                for i in model.objects.filter(id__in=ids).values_list("external_id", flat=True)
                if i
            ],
            names=Contact.objects.filter(id__in=contact_ids).values_list("first_name", "last_name"),
        )
        counts = {
            "contacts": len(contact_ids),
            "chat_contacts": len(chat_ids),
            "chat_rooms": ChatRoom.objects.filter(chat_contact_id__in=chat_ids).count(),
            "match_rules": MatchRule.objects.filter(
                Q(contact_a_id__in=contact_ids)
                | Q(contact_b_id__in=contact_ids)
                | Q(chat_contact_a_id__in=chat_ids)
                | Q(chat_contact_b_id__in=chat_ids)
            ).count(),
            "merged_ids": CustomerAlias.objects.filter(customer_id=customer_id).count(),
            "deals_detached": Deal.objects.filter(contact_id__in=contact_ids).update(contact=None),
        }
        # Model deletes (not raw SQL): the identity signals log the vanished records so the
        # incremental resolution revisits their component, and cascades take rooms and rules.
        Contact.objects.filter(id__in=contact_ids).delete()
        ChatContact.objects.filter(id__in=chat_ids).delete()
        Customer.objects.filter(pk=customer_id).delete()
        # The deletes' signals logged the records' keys for the next resolution; those keys
        # are the person's and go now (the customer id stays: "revisit this component").
        if keys:
            IdentityChange.objects.filter(Q(email_key__in=keys) | Q(phone_key__in=keys)).update(
                email_key="", phone_key=""
            )
        traces = _traces_redact(
            strings=strings | keys,
            keys=keys,
            contact_ids=contact_ids,
            chat_ids=chat_ids,
            customer_id=customer_id,
            deal_ids=deal_ids,
        )
        traces.update(_free_text_redact(needles=needles | keys, keys=keys))
        for _receiver, said in person_erasing.send(sender=ErasureRecord, needles=needles | keys):
            if isinstance(said, dict):
                traces.update(said)
        # Files last: they cannot roll back, so only once everything else has been done.
        traces.update(import_jobs_redact(matcher=matcher))
        record = erasure_record_create(
            user=erased_by, customer_id=customer_id, counts={**counts, **traces}
        )
        erasure = Erasure(record=record)

        def announce() -> None:
            for _receiver, said in person_erased.send(sender=ErasureRecord, record=record):
                if said:
                    erasure.follow_up.append(said)

        transaction.on_commit(announce)
    return erasure
