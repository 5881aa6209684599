"""How one value becomes one CSV cell, for every CSV the project writes (API export, importer).

A spreadsheet runs a cell that starts with a formula prefix, so such text gets a leading
apostrophe (CSV injection).
"""

from decimal import Decimal

from django.utils import timezone

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """One cell as text: decimals with two places, local ISO timestamps, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "tzinfo") and hasattr(value, "isoformat"):
        try:
            return timezone.localtime(value).isoformat()  # type: ignore[arg-type]
        except OverflowError:  # year 1 or 9999, stored before imports were bounded: as stored
            return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text
