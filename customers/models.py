from django.conf import settings
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

    def save(self, *args, **kwargs):
        self.email_key = email_key(self.email)
        self.phone_key = phone_key(self.phone)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"email", "phone"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "email_key", "phone_key"}
        super().save(*args, **kwargs)


class Company(ExternalIdModel):
    name = models.CharField(_("name"), max_length=255)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), null=True, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """One person: a connected component of records sharing identity keys (the snapshot).

    Written only by identity resolution; the id is stable across rebuilds (METRICS.md section 2).
    """

    first_seen_at = models.DateTimeField(_("first seen"), db_index=True)
    # Local date of first_seen_at in settings.TIME_ZONE, so period filters are index range scans.
    first_seen_date = models.DateField(_("first seen date"), db_index=True)
    source = models.CharField(_("source"), max_length=100, default="Other", db_index=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    display_name = models.CharField(_("name"), max_length=255, blank=True, db_index=True)
    primary_email = models.CharField(_("primary email"), max_length=254, blank=True)
    primary_phone = models.CharField(_("primary phone"), max_length=32, blank=True)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    created_at = models.DateTimeField(_("id created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("snapshot updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name or f"Customer {self.pk}"


class CustomerAlias(models.Model):
    """An id that was merged away; the API and admin resolve it to the survivor."""

    alias_id = models.BigIntegerField(primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="aliases")
    merged_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merged customer id")
        verbose_name_plural = _("merged customer ids")

    def __str__(self) -> str:
        return f"{self.alias_id} → {self.customer_id}"


class Contact(ExternalIdModel, IdentityKeysModel):
    """A CRM contact, as the sales team keeps it."""

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    # Keys as of the last identity resolution; a difference (or no customer yet) marks the
    # record for the next incremental one.
    resolved_email_key = models.CharField(max_length=254, blank=True, editable=False)
    resolved_phone_key = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or f"Contact {self.pk}"
