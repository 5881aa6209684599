from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from common.timestamps import timestamp_in_range
from customers.models import Company, Contact
from customers.records import ExternalIdModel

from . import rules


class PipelineStage(models.Model):
    class Outcome(models.TextChoices):
        OPEN = rules.OPEN, _("Open")
        WON = rules.WON, _("Won")
        LOST = rules.LOST, _("Lost")

    name = models.CharField(_("name"), max_length=100, unique=True)
    outcome = models.CharField(
        _("outcome"), max_length=4, choices=Outcome.choices, default=Outcome.OPEN
    )
    default_win_probability = models.PositiveSmallIntegerField(
        _("default win probability"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("pipeline stage")
        verbose_name_plural = _("pipeline stages")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class Product(ExternalIdModel):
    name = models.CharField(_("name"), max_length=255)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    price = models.DecimalField(_("price"), max_digits=18, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LostReason(models.Model):
    """The catalogue of lost reasons; it keeps the spelling a reason was created with."""

    name = models.CharField(_("name"), max_length=255)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="lostreason_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Deal(ExternalIdModel):
    name = models.CharField(_("name"), max_length=255, blank=True)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    stage = models.ForeignKey(
        PipelineStage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    # Empty means "the stage's default" (METRICS.md section 3).
    win_probability = models.PositiveSmallIntegerField(
        _("win probability"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default=settings.INSIGHTS_CURRENCY)
    created_at = models.DateTimeField(_("created at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, db_index=True)
    # When the rep expects an open deal to close (METRICS.md §3, §P); empty: undated.
    expected_close_at = models.DateTimeField(
        _("expected close"), null=True, blank=True, db_index=True
    )
    lost_reason = models.ForeignKey(
        LostReason,
        verbose_name=_("lost reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "id"]
        constraints = [
            timestamp_in_range("created_at", name="deal_created_at_in_range"),
            timestamp_in_range("closed_at", name="deal_closed_at_in_range", nullable=True),
            timestamp_in_range(
                "expected_close_at", name="deal_expected_close_at_in_range", nullable=True
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id or f"Deal {self.pk}"

    @property
    def effective_win_probability(self) -> int:
        if self.win_probability is not None:
            return self.win_probability
        return self.stage.default_win_probability

    @property
    def status(self) -> str:
        """'won', 'lost' or 'open' as METRICS.md section 3 defines it (deals/rules.py)."""
        return rules.deal_status(
            stage_outcome=self.stage.outcome,
            stage_default_win_probability=self.stage.default_win_probability,
            win_probability=self.win_probability,
        )


class DealItem(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="deal_items"
    )
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=2)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("deal item")
        verbose_name_plural = _("deal items")

    def __str__(self) -> str:
        return f"{self.quantity} × {self.product}"

    @property
    def revenue(self):
        return self.quantity * self.unit_price


class DealChange(models.Model):
    """A deal's state from `changed_at` on (CONTRACT §1 "deal history"; METRICS.md §P backtest).

    Rows come from the database triggers that see every change of a deal's stage, win
    probability, amount, currency or expected close date (admin, API, import, SQL), and from the
    `deal_changes` import of another CRM's history. A blank field of an imported row keeps the
    previous recorded value; `stage_name` keeps the name so a renamed or deleted stage still
    reads as it was.
    """

    class Source(models.TextChoices):
        RECORDED = "recorded", _("recorded here")
        IMPORTED = "imported", _("imported history")

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="history")
    changed_at = models.DateTimeField(_("changed at"))
    stage_name = models.CharField(_("stage"), max_length=100, blank=True)
    win_probability = models.PositiveSmallIntegerField(_("win probability"), null=True, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    expected_close_at = models.DateTimeField(_("expected close"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.RECORDED
    )

    class Meta:
        verbose_name = _("deal change")
        verbose_name_plural = _("deal changes")
        ordering = ["deal_id", "changed_at", "id"]
        indexes = [models.Index(fields=["deal", "changed_at"], name="dealchange_deal_at")]

    def __str__(self) -> str:
        return f"{self.deal_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


class ExchangeRate(models.Model):
    """Units of the base currency for one unit of `currency` from `date` on (METRICS.md §3)."""

    currency = models.CharField(_("currency"), max_length=3)
    date = models.DateField(_("date"))
    rate = models.DecimalField(
        _("rate"),
        max_digits=24,
        decimal_places=10,
        validators=[MinValueValidator(Decimal("0.0000000001"))],
    )

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="exchangerate_currency_date"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchangerate_rate_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.date}: {self.rate}"


class SalesTarget(models.Model):
    """A monthly revenue target for one owner, or for the whole team (METRICS.md §O)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
        help_text=_("Empty: the whole team's target."),
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("sales target")
        verbose_name_plural = _("sales targets")
        ordering = ["-month", "owner_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "month"],
                name="salestarget_owner_month",
                condition=models.Q(owner__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["month"],
                name="salestarget_team_month",
                condition=models.Q(owner__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        who = self.owner.get_username() if self.owner_id else _("Team")
        return f"{who} {self.month:%Y-%m}: {self.amount}"


class DealWithoutRate(Deal):
    """Deals in a currency with no exchange rate for their close date (METRICS.md §3): left
    out of every figure, listed for reps in the data-quality admin (deals.currency)."""

    class Meta:
        proxy = True
        verbose_name = _("deal without an exchange rate")
        verbose_name_plural = _("data quality: deals without an exchange rate")
