"""Load a country's national holidays into chats.Holiday (METRICS.md §L business hours).

The dates come from the `holidays` package (python-holidays, maintained, with Indonesia's
national and joint holidays and their Bahasa Indonesia names); dates it marks as estimated
(Islamic holidays set by the government each year) are loaded as such, named "(perkiraan)",
and can be corrected in the admin. Upserted by date: a date already listed keeps its row and
takes the package's name; no other date is touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import holidays as holiday_data
from django.db import transaction

from .models import Holiday


@dataclass(frozen=True)
class HolidaysLoaded:
    created: int
    updated: int


def national_holidays_load(
    *, years: list[int], country: str = "ID", language: str = "id"
) -> HolidaysLoaded:
    """Upsert the national holidays of `country` in `years`; returns what was created/updated."""
    found = holiday_data.country_holidays(country, years=years, language=language)
    created = updated = 0
    with transaction.atomic():
        existing = {h.date: h for h in Holiday.objects.filter(date__in=list(found))}
        for day, name in sorted(found.items()):
            name = str(name)[: Holiday._meta.get_field("name").max_length]
            row = existing.get(day)
            if row is None:
                Holiday.objects.create(date=day, name=name)
                created += 1
            elif row.name != name:
                row.name = name
                row.save(update_fields=["name"])
                updated += 1
    return HolidaysLoaded(created=created, updated=updated)
