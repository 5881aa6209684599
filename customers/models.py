from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from common.timestamps import timestamp_in_range

from .records import ExternalIdModel, ResolvedRecord, customer_link


class Company(ExternalIdModel):
    name = models.CharField(_("name"), max_length=255)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), null=True, blank=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]
        constraints = [
            timestamp_in_range("created_at", name="company_created_at_in_range", nullable=True),
        ]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """One person: a connected component of records sharing identity keys (the snapshot).

    Written only by identity resolution; the id is stable across rebuilds (METRICS.md section 2).
    """

    first_seen_at = models.DateTimeField(_("first seen"), db_index=True)
    # Local date of first_seen_at in settings.TIME_ZONE, so period filters are index range scans
    # (customer_first_seen_idx).
    first_seen_date = models.DateField(_("first seen date"))
    source = models.CharField(_("source"), max_length=100, default="Other")
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    # No index on the name: search is a substring match, which a btree cannot serve, and every
    # index costs the first full resolution ~1M more random inserts.
    display_name = models.CharField(_("name"), max_length=255, blank=True)
    primary_email = models.CharField(_("primary email"), max_length=254, blank=True)
    primary_phone = models.CharField(_("primary phone"), max_length=32, blank=True)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    # METRICS.md section 2: the first CRM contact's country, else the region of the first
    # phone key that has one, else "Other"; city from the first CRM contact with one.
    # db_default too: raw COPY loaders (bench, identity benchmark) that predate the columns
    # still insert rows.
    country = models.CharField(_("country"), max_length=8, default="Other", db_default="Other")
    city = models.CharField(_("city"), max_length=100, default="Other", db_default="Other")
    created_at = models.DateTimeField(_("id created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("snapshot updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["id"]
        # Plain btrees: the varchar_pattern_ops twin that db_index adds on PostgreSQL serves
        # only LIKE 'x%', which no customer filter uses. Each facet is followed by the first-seen
        # date and the id: a filtered list's count, its page of ids, a drill-down to "new
        # customers of this source in P" and a saved segment's members with their first-seen
        # dates are all read from the index alone.
        indexes = [
            models.Index(fields=["source", "first_seen_date", "id"], name="customer_source_idx"),
            models.Index(fields=["country", "first_seen_date", "id"], name="customer_country_idx"),
            models.Index(fields=["city", "first_seen_date", "id"], name="customer_city_idx"),
            models.Index(fields=["first_seen_date", "id"], name="customer_first_seen_idx"),
        ]

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


class Contact(ResolvedRecord):
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
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        default="",
        db_default="",
        help_text=_("ISO 3166-1 alpha-2 code, upper-case (ID, SG, MY)."),
    )
    city = models.CharField(_("city"), max_length=100, blank=True, default="", db_default="")
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
    customer = customer_link(related_name="contacts")

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at", "id"]
        constraints = [
            timestamp_in_range("created_at", name="contact_created_at_in_range"),
        ]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or f"Contact {self.pk}"


class MatchRule(models.Model):
    """A staff decision about two records that every rebuild honours (METRICS.md section 2).

    "Always merge" adds a link between the two records; "never merge" keeps them in different
    customers even when their keys connect them (see customers/identity.py for how).
    Each side is one record: a CRM contact or a chat contact.
    """

    class Kind(models.TextChoices):
        ALWAYS = "always", _("always merge")
        NEVER = "never", _("never merge")

    kind = models.CharField(_("rule"), max_length=10, choices=Kind.choices)
    contact_a = models.ForeignKey(
        Contact,
        verbose_name=_("CRM contact A"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    chat_contact_a = models.ForeignKey(
        "chats.ChatContact",
        verbose_name=_("chat contact A"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    contact_b = models.ForeignKey(
        Contact,
        verbose_name=_("CRM contact B"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    chat_contact_b = models.ForeignKey(
        "chats.ChatContact",
        verbose_name=_("chat contact B"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    note = models.CharField(_("why"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("match rule")
        verbose_name_plural = _("match rules")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact_a__isnull=False, chat_contact_a__isnull=True)
                | models.Q(contact_a__isnull=True, chat_contact_a__isnull=False),
                name="matchrule_one_record_a",
            ),
            models.CheckConstraint(
                condition=models.Q(contact_b__isnull=False, chat_contact_b__isnull=True)
                | models.Q(contact_b__isnull=True, chat_contact_b__isnull=False),
                name="matchrule_one_record_b",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {node_label(self.node_a)} / {node_label(self.node_b)}"

    def clean(self) -> None:
        for side, crm, chat in (
            ("A", self.contact_a_id, self.chat_contact_a_id),
            ("B", self.contact_b_id, self.chat_contact_b_id),
        ):
            if (crm is None) == (chat is None):
                raise ValidationError(
                    _("Record %(side)s must be one CRM contact or one chat contact.")
                    % {"side": side}
                )
        if self.node_a == self.node_b:
            raise ValidationError(_("A rule needs two different records."))

    @property
    def node_a(self) -> int:
        return record_node(crm_id=self.contact_a_id, chat_id=self.chat_contact_a_id)

    @property
    def node_b(self) -> int:
        return record_node(crm_id=self.contact_b_id, chat_id=self.chat_contact_b_id)


def record_node(*, crm_id: int | None, chat_id: int | None) -> int:
    """Graph node of a record: CRM contact id → 2*id, chat contact id → 2*id+1."""
    return 2 * crm_id if crm_id is not None else 2 * chat_id + 1


def node_label(node: int) -> str:
    return f"CRM contact {node // 2}" if node % 2 == 0 else f"chat contact {node // 2}"


class PlaceholderKey(models.Model):
    """A key carried by more than INSIGHTS_MAX_KEY_FANOUT records at the last resolution.

    Not used for matching; listed in admin as a data-quality problem. Rewritten by the rebuild.
    """

    key = models.CharField(_("key"), max_length=254, primary_key=True)
    fanout = models.PositiveIntegerField(_("records"))

    class Meta:
        verbose_name = _("placeholder key")
        verbose_name_plural = _("placeholder keys")
        ordering = ["-fanout", "key"]

    def __str__(self) -> str:
        return self.key


class IdentityChange(models.Model):
    """What the next incremental resolution must look at besides records with changed keys.

    Written by signals: a deleted record leaves its customer and keys (its customer may split
    or vanish, a key may stop being a placeholder); a new or removed rule leaves its two records.
    Emptied by every rebuild.
    """

    customer_id = models.BigIntegerField(null=True)
    node = models.BigIntegerField(null=True)
    email_key = models.CharField(max_length=254, blank=True)
    phone_key = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"change {self.pk}"


class ContactToFix(Contact):
    """CRM contacts with an identity-key problem, listed for reps in the data-quality admin."""

    class Meta:
        proxy = True
        verbose_name = _("CRM contact to fix")
        verbose_name_plural = _("data quality: CRM contacts to fix")
