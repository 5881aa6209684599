"""The close-date filter of the admin deal list, for the sales-by-owner drill-downs
(METRICS.md O): `closed_from` / `closed_to` select the close date (closed_at, else created_at)
in local dates of settings.TIME_ZONE, both ends included. The status and expected close
filters sit in deals/admin.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import admin
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class _LocalDateRangeFilter(admin.ListFilter):
    """Two querystring dates, `<prefix>_from` and `<prefix>_to`, over a timestamp expression.

    Shown in the sidebar only as the range it holds (a drill-down sets it); a date that does
    not parse is ignored, like the admin's own filters ignore an unknown choice.
    """

    prefix = ""

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        self.values: dict[str, str] = {}
        for name in self.expected_parameters():
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value

    def expected_parameters(self) -> list[str]:
        return [f"{self.prefix}_from", f"{self.prefix}_to"]

    def has_output(self) -> bool:
        return bool(self.values)

    def choices(self, changelist: Any):
        yield {
            "selected": True,
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": " – ".join(
                self.values.get(name, "…") for name in self.expected_parameters()
            ),
        }

    def expression(self) -> Any:
        raise NotImplementedError

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        start = _date(self.values.get(f"{self.prefix}_from"))
        end = _date(self.values.get(f"{self.prefix}_to"))
        if start is None and end is None:
            return queryset
        queryset = queryset.annotate(**{f"_{self.prefix}_at": self.expression()})
        if start is not None:
            queryset = queryset.filter(**{f"_{self.prefix}_at__gte": _local_midnight(start)})
        if end is not None:
            limit = _local_midnight(end + timedelta(days=1))
            queryset = queryset.filter(**{f"_{self.prefix}_at__lt": limit})
        return queryset


class CloseDateFilter(_LocalDateRangeFilter):
    title = _("close date")
    prefix = "closed"

    def expression(self) -> Any:
        return Coalesce(F("closed_at"), F("created_at"))
