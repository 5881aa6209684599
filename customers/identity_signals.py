"""Signals that tell the next incremental identity resolution what changed besides keys.

Records with new or edited keys are found by comparing keys with resolved_*_key; deletions and
rule changes leave no trace in the remaining rows, so they are logged in IdentityChange.
"""

from django.db.models.signals import post_delete, post_save, pre_delete

from .models import IdentityChange, MatchRule


def _record_deleted(sender, instance, **kwargs) -> None:
    customer_id = instance.customer_id
    if customer_id is None:
        # An instance loaded before the last rebuild does not know its customer; the row does.
        customer_id = (
            sender.objects.filter(pk=instance.pk).values_list("customer_id", flat=True).first()
        )
    IdentityChange.objects.create(
        customer_id=customer_id,
        email_key=instance.email_key,
        phone_key=instance.phone_key,
    )


def _record_saved(sender, instance, created: bool, **kwargs) -> None:
    # A new source, company, name or created_at changes the customer's attributes without
    # touching keys; bulk writers (the importer) log their own changes.
    if not created and instance.customer_id is not None:
        IdentityChange.objects.create(customer_id=instance.customer_id)


def _rule_changed(sender, instance: MatchRule, **kwargs) -> None:
    # A rule cascaded away with its record needs nothing more: the record deletion is logged.
    IdentityChange.objects.bulk_create(
        [IdentityChange(node=instance.node_a), IdentityChange(node=instance.node_b)]
    )


def identity_signals_connect() -> None:
    """Called once from CustomersConfig.ready(), when every model is loaded."""
    pre_delete.connect(_record_deleted, sender="customers.Contact", dispatch_uid="identity_crm_del")
    pre_delete.connect(
        _record_deleted, sender="chats.ChatContact", dispatch_uid="identity_chat_del"
    )
    post_save.connect(_record_saved, sender="customers.Contact", dispatch_uid="identity_crm_save")
    post_save.connect(_record_saved, sender="chats.ChatContact", dispatch_uid="identity_chat_save")
    post_save.connect(_rule_changed, sender=MatchRule, dispatch_uid="identity_rule_save")
    post_delete.connect(_rule_changed, sender=MatchRule, dispatch_uid="identity_rule_del")
