"""Writes of the audit trail."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from .models import ErasureRecord, ExportRecord


def export_record_create(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    endpoint: str,
    params: dict[str, list[str] | str],
    row_count: int,
    format: str,
) -> ExportRecord:
    """Record one export: who, which filter, how many rows, in which format."""
    real_user = user if user is not None and user.is_authenticated else None
    return ExportRecord.objects.create(
        user=real_user,
        username=real_user.get_username() if real_user is not None else "",
        endpoint=endpoint,
        params=params,
        row_count=row_count,
        format=format,
    )


def export_record_finish(*, record: ExportRecord, rows_sent: int, complete: bool) -> None:
    """Make an export's record tell the truth once its stream ends: rows sent, and whether all."""
    ExportRecord.objects.filter(pk=record.pk).update(row_count=rows_sent, complete=complete)
    record.row_count, record.complete = rows_sent, complete


def erasure_record_create(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    customer_id: int,
    counts: dict[str, int],
) -> ErasureRecord:
    """Record one erasure: who, when, which (now meaningless) customer id, how many records."""
    real_user = user if user is not None and user.is_authenticated else None
    return ErasureRecord.objects.create(
        user=real_user,
        username=real_user.get_username() if real_user is not None else "",
        customer_id=customer_id,
        counts=counts,
    )
