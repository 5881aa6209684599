"""Celery wrappers only: the work is customers.import_jobs.import_job_run."""

from __future__ import annotations

from celery import shared_task

from .import_jobs import import_job_run


@shared_task(name="customers.import_job_run")
def run_import_job(job_id: int) -> dict[str, object]:
    # No automatic retry: a half-done real import is resumable by loading the file again
    # (rows are upserted), which the person at the page decides.
    job = import_job_run(job_id=job_id)
    return {"job_id": job.pk, "status": job.status}
