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
no deal leads back to them. A deal's free-text name is left as typed; a rep who put a person's
name in a deal title must edit it.

Then the insights rebuild runs (waiting for a running one), after the erasure commits, so the
snapshot, rollups and cached figures stop counting the person. The rebuild is not inside the
erasure's transaction: it takes the rebuild lock itself, and on SQLite waiting for that lock
while holding the database write lock could deadlock with a running rebuild. If the rebuild
fails the erasure stands (the error is raised; the next rebuild finishes the job) and the
audit entry has no rebuild run id.

The audit entry (audit.ErasureRecord) keeps who, when, the customer's former id and counts,
never a name, email, phone or key.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q

from audit.models import ErasureRecord
from audit.services import erasure_record_create
from chats.models import ChatContact, ChatRoom
from deals.models import Deal

from .models import Contact, Customer, CustomerAlias, IdentityChange, MatchRule, PlaceholderKey


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


def customer_erase(
    *,
    customer: Customer,
    erased_by: AbstractBaseUser | AnonymousUser | None,
    rebuild: bool = True,
) -> ErasureRecord:
    """Erase one person everywhere (see the module docstring); returns the audit entry.

    rebuild=False leaves the figures to the next rebuild (for callers erasing many people in a
    row, who rebuild once at the end).
    """
    from insights.rebuild import insights_rebuild  # insights imports customers; not at load

    customer_id = customer.pk
    with transaction.atomic():
        contact_ids, chat_ids, keys = _person_records(customer=customer)
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
        record = erasure_record_create(user=erased_by, customer_id=customer_id, counts=counts)
    if rebuild:
        run = insights_rebuild(trigger="erasure", wait=True)
        record.rebuild_run_id = run.pk
        record.save(update_fields=["rebuild_run_id"])
    # The rebuild empties the change log it consumed; rows logged since (or all of them when
    # rebuild=False) must not keep the erased keys once the next rebuild has run either, but a
    # row without keys would lose the "revisit this component" signal, so only the keys go.
    if keys:
        IdentityChange.objects.filter(Q(email_key__in=keys) | Q(phone_key__in=keys)).update(
            email_key="", phone_key=""
        )
    return record
