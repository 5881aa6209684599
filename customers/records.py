"""The base every source record shares: CRM contacts (customers) and chat contacts (chats).

Both apps import this module; neither imports the other's models. A record carries an optional
external id, email and phone with their normalised identity keys (METRICS.md section 2), the
customer identity resolution put it in, and the keys it was resolved with.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .keys import email_key, phone_key


class ExternalIdModel(models.Model):
    """A record that may come from a source system: upserted by its external id.

    Records typed in admin have no external id; NULLs never collide on the unique index.
    """

    external_id = models.CharField(
        _("external id"), max_length=100, unique=True, null=True, blank=True
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.external_id == "":
            self.external_id = None
        super().save(*args, **kwargs)


class IdentityKeysModel(models.Model):
    """Email and phone as typed, with their normalised identity keys (METRICS.md section 2)."""

    email = models.CharField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=64, blank=True)
    email_key = models.CharField(max_length=254, blank=True, db_index=True, editable=False)
    phone_key = models.CharField(max_length=32, blank=True, db_index=True, editable=False)

    class Meta:
        abstract = True

    # Written only by identity resolution, in SQL. A save from an instance loaded before the last
    # rebuild would put its stale values back (and lose the record's customer), so a plain save
    # of an existing row leaves them alone.
    RESOLUTION_FIELDS = frozenset({"customer", "resolved_email_key", "resolved_phone_key"})

    def save(self, *args, **kwargs):
        self.email_key = email_key(self.email)
        self.phone_key = phone_key(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"email", "phone"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "email_key", "phone_key"}
        elif (
            update_fields is None
            and not args
            and not self._state.adding
            and not kwargs.get("force_insert")
            and self.pk is not None
        ):
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.RESOLUTION_FIELDS
            ]
        super().save(*args, **kwargs)


def customer_link(*, related_name: str) -> models.ForeignKey:
    """The record's customer: set only by identity resolution, kept NULL until it has run."""
    return models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name=related_name,
    )


class ResolvedRecord(ExternalIdModel, IdentityKeysModel):
    """A source record that identity resolution puts in a customer.

    Subclasses add `customer = customer_link(related_name=...)` (the reverse name differs per
    kind of record). The resolved keys are the keys as of the last identity resolution; a
    difference (or no customer yet) marks the record for the next incremental one.
    """

    resolved_email_key = models.CharField(max_length=254, blank=True, editable=False)
    resolved_phone_key = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        abstract = True
