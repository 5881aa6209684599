"""Importing CSV files from the admin: a dry run, then the confirmed import.

Built only on the public entry of the importer (`imports.importer.import_records`), so the
page applies exactly the rules of `manage.py import_records` (CONTRACT §1). A dry run is the
same load inside a transaction that is rolled back. Small files run in the request; larger
ones in a Celery task that records its progress on the ImportJob row.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import ImportJob
from imports.fast import bulk_load_running
from imports.importer import (
    KINDS,
    ImportFileError,
    Rejection,
    import_records,
    rejected_rows_writer,
)
from imports.scoping import RowRights

logger = logging.getLogger(__name__)

# Labels of the kinds on the page; a kind added to imports.kinds later is offered with its
# model's plural name until it gets one here.
KIND_LABELS = {
    "companies": _("Companies"),
    "contacts": _("CRM contacts"),
    "chat_contacts": _("Chat contacts"),
    "chat_rooms": _("Chat rooms"),
    "products": _("Products"),
    "deals": _("Deals"),
    "deal_items": _("Deal items"),
    "survey_responses": _("Survey responses"),
}
# Files up to this size run in the request; larger ones in a Celery task with progress.
INLINE_MAX_BYTES = 512 * 1024
FIRST_REJECTIONS = 20
PROGRESS_EVERY_ROWS = 5000
# Defaults of the settings WAWASAN_IMPORT_MAX_BYTES and WAWASAN_IMPORT_RETENTION_DAYS.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
RETENTION_DAYS = 7


def kind_label(kind: str) -> str:
    if kind in KIND_LABELS:
        return str(KIND_LABELS[kind])
    if kind not in KINDS:  # a job of a kind since removed
        return kind
    return str(KINDS[kind].model._meta.verbose_name_plural).capitalize()


def kind_permissions(kind: str) -> tuple[str, str]:
    """Who may load a kind: the add and change permissions of the model it writes (rows are
    upserted, so both); each row is then checked against the admin's rules (imports.scoping)."""
    opts = KINDS[kind].model._meta
    return (
        f"{opts.app_label}.{get_permission_codename('add', opts)}",
        f"{opts.app_label}.{get_permission_codename('change', opts)}",
    )


def max_upload_bytes() -> int:
    return int(getattr(settings, "WAWASAN_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES))


def retention() -> timedelta:
    return timedelta(days=int(getattr(settings, "WAWASAN_IMPORT_RETENTION_DAYS", RETENTION_DAYS)))


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def upload_too_large(size: int | None) -> str | None:
    """The page's error for a file above the limit, or None."""
    limit = max_upload_bytes()
    if size is None or size <= limit:
        return None
    return str(
        _("The file is %(size)s; the limit is %(limit)s. Split it and load the parts.")
        % {"size": _megabytes(size), "limit": _megabytes(limit)}
    )


class ImportJobError(Exception):
    """A request the import page refuses: an unknown kind, a missing permission, no file."""


def import_dir() -> Path:
    """Where uploaded files wait between the dry run and the confirmation (not web-served)."""
    path = Path(getattr(settings, "WAWASAN_IMPORT_DIR", settings.BASE_DIR / "var" / "imports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_kinds_for(user: User | AnonymousUser) -> list[str]:
    """The kinds `user` may load (every kind of the importer), in the order they must load."""
    return [kind for kind in KINDS if user.has_perms(kind_permissions(kind))]


def import_job_create(*, user: User, kind: str, upload: UploadedFile) -> ImportJob:
    """Keep the uploaded file and create its dry-run job (not started)."""
    if kind not in KINDS:
        raise ImportJobError(_("Unknown kind %(kind)r.") % {"kind": kind})
    if kind not in import_kinds_for(user):
        raise ImportJobError(_("You may not import %(kind)s.") % {"kind": kind_label(kind)})
    too_large = upload_too_large(upload.size)
    if too_large:
        raise ImportJobError(too_large)
    path = import_dir() / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return ImportJob.objects.create(
        user=user,
        username=user.get_username(),
        kind=kind,
        file_name=(upload.name or "upload.csv")[:255],
        path=str(path),
        size=path.stat().st_size,
        dry_run=True,
    )


def import_job_refusal(*, job: ImportJob, user: User | AnonymousUser) -> str | None:
    """Why `user` may not confirm `job` now, or None: the page's button and the confirmation
    itself ask the same question."""
    if not job.dry_run or job.status != ImportJob.Status.DONE:
        return str(_("Only a finished dry run can be confirmed."))
    if job.user_id is None or job.user_id != user.pk:
        return str(_("Only the person who ran the dry run can confirm it."))
    if job.confirmations.exists():
        return str(_("This dry run was already confirmed; upload the file again to load it again."))
    if job.erased_at is not None:
        return str(
            _(
                "A person named in this file was erased after its dry run; the file was "
                "removed. Upload a file without them."
            )
        )
    if not Path(job.path).exists():
        return str(_("The file is no longer kept; upload it again."))
    if job.kind not in import_kinds_for(user):
        return str(_("You may not import %(kind)s.") % {"kind": kind_label(job.kind)})
    return None


def import_job_confirm(*, job: ImportJob, user: User) -> ImportJob:
    """The real import of a finished dry run's file (not started); once, by its owner.

    The dry run's row is locked while it is checked and confirmed, so two confirmations sent
    at once make one import and the other is refused.
    """
    with transaction.atomic():
        # The lock is a write, not SELECT ... FOR UPDATE: SQLite, which has no row locks,
        # then makes the second confirmation wait for the first's commit too.
        ImportJob.objects.filter(pk=job.pk).update(dry_run=F("dry_run"))
        locked = ImportJob.objects.get(pk=job.pk)
        refusal = import_job_refusal(job=locked, user=user)
        if refusal:
            raise ImportJobError(refusal)
        return ImportJob.objects.create(
            user=user,
            username=user.get_username(),
            kind=locked.kind,
            file_name=locked.file_name,
            path=locked.path,
            size=locked.size,
            dry_run=False,
            confirms=locked,
        )


class _Progress:
    """Writes rows read to the job now and then: committed at once (real imports only; a dry
    run's writes would roll back with it, so it reports at the end)."""

    def __init__(self, job: ImportJob) -> None:
        self.job, self.rows, self.reported = job, 0, 0

    def __call__(self, rows: int) -> None:
        self.rows += rows
        if not self.job.dry_run and self.rows - self.reported >= PROGRESS_EVERY_ROWS:
            if bulk_load_running():
                self._record_aside()
            else:
                ImportJob.objects.filter(pk=self.job.pk).update(rows_done=self.rows)
            self.reported = self.rows

    def _record_aside(self) -> None:
        """A bulk load (imports.fast.bulk_tables) is one transaction: an update through it
        would show only at its end, so the count goes through a connection of its own (opened
        for the update: one per PROGRESS_EVERY_ROWS rows, a few ms each)."""
        side = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET rows_done = %s WHERE id = %s",
                    [self.rows, self.job.pk],
                )
        finally:
            side.close()


def import_job_run(*, job_id: int) -> ImportJob:
    """Load the job's file with `import_records`; a dry run rolls everything back."""
    job = ImportJob.objects.get(pk=job_id)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    first: list[dict[str, Any]] = []
    rejected_file = None
    writer = None

    def on_rejection(rejection: Rejection, header: list[str]) -> None:
        nonlocal rejected_file, writer
        if len(first) < FIRST_REJECTIONS:
            first.append({"line": rejection.line, "reason": rejection.reason})
        if writer is None:
            rejected_file = open(job.rejected_path, "w", encoding="utf-8", newline="")  # noqa: SIM115
            writer = rejected_rows_writer(header, rejected_file)
        writer(rejection)

    progress = _Progress(job)
    fields: dict[str, Any] = {}
    try:
        if job.user is None:
            raise ImportFileError("the account that uploaded the file no longer exists")
        # Bytes: a row that is not UTF-8 is rejected alone, as by the command (CONTRACT §1).
        with open(job.path, "rb") as stream:
            result = import_records(
                kind=job.kind,
                stream=stream,
                on_rejection=on_rejection,
                progress=progress,
                # The admin's rules per row; each dry-run batch rolls back on its own.
                rights=RowRights(user=job.user),
                dry_run=job.dry_run,
            )
    except FileNotFoundError:
        fields.update(status=ImportJob.Status.FAILED, error=str(_("The file is no longer kept.")))
    except ImportFileError as error:
        fields.update(status=ImportJob.Status.FAILED, error=str(error))
    except UnicodeDecodeError:
        fields.update(status=ImportJob.Status.FAILED, error=str(_("The file is not UTF-8 text.")))
    except Exception as error:  # noqa: BLE001 - shown on the page and logged
        logger.exception("import job %s failed", job.pk)
        fields.update(status=ImportJob.Status.FAILED, error=f"{type(error).__name__}: {error}")
    else:
        fields.update(
            status=ImportJob.Status.DONE,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
        )
    finally:
        if rejected_file is not None:
            rejected_file.close()
    ImportJob.objects.filter(pk=job.pk).update(
        rows_done=progress.rows, first_rejections=first, finished_at=timezone.now(), **fields
    )
    job.refresh_from_db()
    if not job.dry_run or job.status == ImportJob.Status.FAILED:
        # The file has served: a dry run's stays for its confirmation (or until it expires).
        _upload_remove(job.path)
    return job


def _upload_remove(path: str) -> None:
    Path(path).unlink(missing_ok=True)


def import_files_cleanup(*, now: datetime | None = None) -> int:
    """Remove the files of jobs older than the retention (uploads and rejected rows); a
    finished import's upload went when it finished. Returns the number of files removed."""
    cutoff = (now or timezone.now()) - retention()
    removed = 0
    for job in ImportJob.objects.filter(created_at__lt=cutoff).only("pk", "path"):
        for path in (Path(job.path), Path(job.rejected_path)):
            if job.path and path.exists():
                path.unlink(missing_ok=True)
                removed += 1
    return removed
