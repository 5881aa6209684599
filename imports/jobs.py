"""Importing CSV files from the admin: a dry run, then the confirmed import.

Built only on the public entry of the importer (`imports.importer.import_records`), so the
page applies exactly the rules of `manage.py import_records` (CONTRACT §1). A dry run is the
same load inside a transaction that is rolled back. Small files run in the request; larger
ones in a Celery task that records its progress on the ImportJob row.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import ImportJob
from imports.importer import (
    ImportFileError,
    Rejection,
    import_records,
    rejected_rows_writer,
)

logger = logging.getLogger(__name__)

# Who may load what: the add and change permissions of the model a kind writes (rows are
# upserted, so both). Kinds added to the importer later get an entry here.
KIND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "companies": ("customers.add_company", "customers.change_company"),
    "contacts": ("customers.add_contact", "customers.change_contact"),
    "chat_contacts": ("chats.add_chatcontact", "chats.change_chatcontact"),
    "chat_rooms": ("chats.add_chatroom", "chats.change_chatroom"),
    "products": ("deals.add_product", "deals.change_product"),
    "deals": ("deals.add_deal", "deals.change_deal"),
    "deal_items": ("deals.add_dealitem", "deals.change_dealitem"),
}
KIND_LABELS = {
    "companies": _("Companies"),
    "contacts": _("CRM contacts"),
    "chat_contacts": _("Chat contacts"),
    "chat_rooms": _("Chat rooms"),
    "products": _("Products"),
    "deals": _("Deals"),
    "deal_items": _("Deal items"),
}
# Files up to this size run in the request; larger ones in a Celery task with progress.
INLINE_MAX_BYTES = 512 * 1024
FIRST_REJECTIONS = 20
PROGRESS_EVERY_ROWS = 5000


class ImportJobError(Exception):
    """A request the import page refuses: an unknown kind, a missing permission, no file."""


def import_dir() -> Path:
    """Where uploaded files wait between the dry run and the confirmation (not web-served)."""
    path = Path(getattr(settings, "WAWASAN_IMPORT_DIR", settings.BASE_DIR / "var" / "imports"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def import_kinds_for(user: User | AnonymousUser) -> list[str]:
    """The kinds `user` may load, in the order they must be loaded."""
    return [kind for kind, perms in KIND_PERMISSIONS.items() if user.has_perms(perms)]


def import_job_create(*, user: User, kind: str, upload: UploadedFile) -> ImportJob:
    """Keep the uploaded file and create its dry-run job (not started)."""
    if kind not in KIND_PERMISSIONS:
        raise ImportJobError(_("Unknown kind %(kind)r.") % {"kind": kind})
    if kind not in import_kinds_for(user):
        raise ImportJobError(_("You may not import %(kind)s.") % {"kind": KIND_LABELS[kind]})
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


def import_job_confirm(*, job: ImportJob, user: User) -> ImportJob:
    """The real import of a finished dry run's file (not started)."""
    if not job.dry_run or job.status != ImportJob.Status.DONE:
        raise ImportJobError(_("Only a finished dry run can be confirmed."))
    if job.kind not in import_kinds_for(user):
        raise ImportJobError(_("You may not import %(kind)s.") % {"kind": KIND_LABELS[job.kind]})
    return ImportJob.objects.create(
        user=user,
        username=user.get_username(),
        kind=job.kind,
        file_name=job.file_name,
        path=job.path,
        size=job.size,
        dry_run=False,
        confirms=job,
    )


class _Progress:
    """Writes rows read to the job now and then: committed at once (real imports only; a dry
    run's writes would roll back with it, so it reports at the end)."""

    def __init__(self, job: ImportJob) -> None:
        self.job, self.rows, self.reported = job, 0, 0

    def __call__(self, rows: int) -> None:
        self.rows += rows
        if not self.job.dry_run and self.rows - self.reported >= PROGRESS_EVERY_ROWS:
            ImportJob.objects.filter(pk=self.job.pk).update(rows_done=self.rows)
            self.reported = self.rows


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
        with open(job.path, encoding="utf-8-sig", newline="") as stream:
            if job.dry_run:
                with transaction.atomic():
                    result = import_records(
                        kind=job.kind, stream=stream, on_rejection=on_rejection, progress=progress
                    )
                    transaction.set_rollback(True)
            else:
                result = import_records(
                    kind=job.kind, stream=stream, on_rejection=on_rejection, progress=progress
                )
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
    return job
