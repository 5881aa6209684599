"""Celery wrappers only: the work is imports.jobs.import_job_run."""

from __future__ import annotations

from celery import shared_task

from audit.models import ImportJob

from . import jobs
from .jobs import import_job_run


@shared_task(name="imports.import_job_run")
def run_import_job(job_id: int) -> dict[str, object]:
    # No automatic retry: a half-done real import is resumable by loading the file again
    # (rows are upserted), which the person at the page decides.
    job = import_job_run(job_id=job_id)
    return {"job_id": job.pk, "status": job.status}


def import_job_start(*, job: ImportJob) -> ImportJob:
    """Run small files now; queue larger ones (the page then shows their progress)."""
    if job.size <= jobs.INLINE_MAX_BYTES:
        return import_job_run(job_id=job.pk)
    run_import_job.delay(job.pk)
    job.refresh_from_db()
    return job


@shared_task(name="imports.import_files_cleanup")
def import_files_cleanup_task() -> dict[str, int]:
    """Daily (django-celery-beat): remove the files of import jobs past their retention."""
    return {"removed": jobs.import_files_cleanup()}
