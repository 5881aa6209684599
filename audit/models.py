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
    # Rows the filter matched when the export began; then the rows actually sent, once the
    # stream ends (a download cut short records what left the server, not what was asked).
    row_count = models.PositiveIntegerField(_("rows"))
    format = models.CharField(_("format"), max_length=10)
    # True: every row was sent; False: the stream stopped early (or has not finished);
    # None: recorded before exports said so.
    complete = models.BooleanField(_("complete"), null=True, default=False)

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export records")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.row_count} rows"


class ErasureRecord(models.Model):
    """One erasure of a person (UU PDP / GDPR): who erased, when, and how much went.

    Keeps no personal data by design: no name, email, phone or key of the erased person, only
    the id their customer had (an opaque number the rest of the database no longer knows) and
    counts. The note is never filled from the erased records.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="erasure_records",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("erased at"), auto_now_add=True, db_index=True)
    customer_id = models.BigIntegerField(_("customer id"))
    # {"contacts": n, "chat_contacts": n, "chat_rooms": n, "deals_detached": n, ...}
    counts = models.JSONField(_("records removed"), default=dict, blank=True)
    rebuild_run_id = models.BigIntegerField(_("rebuild run"), null=True, blank=True)

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.username} erased customer {self.customer_id}"
        )


class ImportJob(models.Model):
    """One CSV upload through the admin's Import page: a dry run, then (confirmed) the import.

    The file stays on disk (`path`) between the dry run and the confirmation; counts, progress
    and the first rejected lines are kept here so the page can show them while a worker runs.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_jobs",
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("started at"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    file_name = models.CharField(_("file name"), max_length=255)
    path = models.CharField(max_length=500, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    dry_run = models.BooleanField(_("dry run"), default=True)
    confirms = models.ForeignKey(
        "self",
        verbose_name=_("confirms dry run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmations",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    rows_done = models.PositiveBigIntegerField(_("rows read"), default=0)
    created = models.PositiveBigIntegerField(_("created"), default=0)
    updated = models.PositiveBigIntegerField(_("updated"), default=0)
    unchanged = models.PositiveBigIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveBigIntegerField(_("rejected"), default=0)
    first_rejections = models.JSONField(_("first rejected lines"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # When an erasure found the erased person in the file: its rows are gone from the files and
    # first rejections, and a dry run can no longer be confirmed (privacy.erasure).
    erased_at = models.DateTimeField(_("erasure reached it at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        mode = "dry run" if self.dry_run else "import"
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.kind} {mode}"

    @property
    def rejected_path(self) -> str:
        return f"{self.path}.job{self.pk}.rejected.csv"
