"""The range of timestamps the project stores (CONTRACT.md section 1: 1900 to 2100).

The importer refuses a time outside 1900-01-01..2100-12-31 (local). The database holds the
same bound, a day wider so that no time zone moves a valid local time out of it, on every
stored timestamp a person or file can set: a value near year 1 or 9999 (which Python's
datetime cannot shift into another zone) could otherwise turn every list showing it into a 500.
"""

from datetime import UTC, datetime

from django.db import models

EARLIEST = datetime(1899, 12, 31, tzinfo=UTC)
LATEST = datetime(2101, 1, 2, tzinfo=UTC)


def timestamp_in_range(field: str, *, name: str, nullable: bool = False) -> models.CheckConstraint:
    """A CheckConstraint keeping `field` within EARLIEST..LATEST (or null when `nullable`)."""
    within = models.Q(**{f"{field}__gte": EARLIEST, f"{field}__lt": LATEST})
    if nullable:
        within |= models.Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=within, name=name)
