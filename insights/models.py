from django.db import models
from django.utils.translation import gettext_lazy as _


class RebuildRun(models.Model):
    """One run of the snapshot + rollup rebuild, kept for the admin's run list."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped (another rebuild was running)")

    started_at = models.DateTimeField(_("started"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    trigger = models.CharField(_("started by"), max_length=100, blank=True)
    rows = models.JSONField(_("rows written"), default=dict, blank=True)
    timings = models.JSONField(_("phase timings (s)"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("rebuild run")
        verbose_name_plural = _("rebuild runs")
        ordering = ["-started_at"]
        permissions = [
            ("view_insights", _("Can view customer insights")),
            ("run_rebuild", _("Can start an insights rebuild")),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class CustomerStats(models.Model):
    """Per-customer totals for lists and filters, written by the rebuild (all time)."""

    customer = models.OneToOneField(
        "customers.Customer", primary_key=True, on_delete=models.CASCADE, related_name="stats"
    )
    lifetime_revenue = models.DecimalField(
        _("lifetime revenue"), max_digits=20, decimal_places=2, default=0, db_index=True
    )
    won_deals = models.PositiveIntegerField(_("won deals"), default=0, db_index=True)
    deals = models.PositiveIntegerField(_("deals"), default=0, db_index=True)
    chat_rooms = models.PositiveIntegerField(_("chat rooms"), default=0)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer totals")
        verbose_name_plural = _("customer totals")

    def __str__(self) -> str:
        return f"stats of customer {self.customer_id}"
