from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportRecord(models.Model):
    """One data export through the API: who took which rows, kept for the admin's audit list."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="export_records",
    )
    # Kept as written so the record still names the person after the account is deleted.
    username = models.CharField(_("username"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("exported at"), auto_now_add=True, db_index=True)
    endpoint = models.CharField(_("endpoint"), max_length=200)
    params = models.JSONField(_("filter parameters"), default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))
    format = models.CharField(_("format"), max_length=10)

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export records")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.row_count} rows"
