"""Template filters for the insights pages: money and numbers in the reader's language.

Bahasa Indonesia writes rupiah as `Rp30.000.000` (dots group thousands); English as
`IDR 30,000,000`. Currencies without minor units in daily use (the rupiah among them) are shown
without cents in the UI; the API keeps its 2-decimal strings. KPI cards use a short form
(`Rp 971,2 jt`, `IDR 971.2M`) with the full amount on hover. Formatted here rather than through
Django's l10n so the rules are the same on every page and in tests.
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from django import template
from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy

register = template.Library()

# Symbols written before the amount, per language; other currencies use their ISO code.
_SYMBOLS = {"id": {"IDR": "Rp"}}
# Shown without cents in the UI: nobody prices in sen, and "Rp1.144.032,35" wraps and misleads.
WHOLE_CURRENCIES = frozenset({"IDR", "JPY", "KRW", "VND", "CLP", "ISK"})
_CENT = Decimal("0.01")
_ONE = Decimal("1")
NBSP = "\u00a0"
# (threshold, Indonesian suffix, English suffix), largest first.
_SCALES = (
    (Decimal(10) ** 12, "T", "T"),
    (Decimal(10) ** 9, "M", "B"),
    (Decimal(10) ** 6, "jt", "M"),
)


def _language(language: str | None) -> str:
    return (language or get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()


def _to_decimal(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _group(number: str, language: str) -> str:
    """'1234567.5' written with the language's separators: 1.234.567,5 or 1,234,567.5."""
    whole, _dot, frac = number.partition(".")
    sign = "-" if whole.startswith("-") else ""
    grouped = f"{int(whole.lstrip('-') or 0):,}"
    if language == "id":
        grouped = grouped.replace(",", ".")
        return f"{sign}{grouped},{frac}" if frac else f"{sign}{grouped}"
    return f"{sign}{grouped}.{frac}" if frac else f"{sign}{grouped}"


def number_format(
    value: object, *, decimals: int = 2, language: str | None = None, fixed: bool = False
) -> str:
    """A count or average with thousands separators and at most `decimals` places, trailing
    zeros dropped: 3025.50 → `3.025,5` (id), `3,025.5` (en); `fixed` keeps exactly `decimals`
    places (a probability column reads 0,90 beside 1,00)."""
    if value is None or value == "":
        return ""
    amount = _to_decimal(value)
    if amount is None:
        return str(value)
    quantum = Decimal(1).scaleb(-decimals) if decimals else _ONE
    text = f"{amount.quantize(quantum, rounding=ROUND_HALF_UP):f}"
    if "." in text and not fixed:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return _group(text, _language(language))


def _with_currency(sign: str, number: str, currency: str, language: str, spaced: bool) -> str:
    symbol = _SYMBOLS.get(language, {}).get(currency)
    if symbol:
        gap = NBSP if spaced else ""
        return f"{sign}{symbol}{gap}{number}"
    # A non-breaking space: the code never ends one line and the amount starts the next.
    return f"{sign}{currency}{NBSP}{number}"


def money_format(value: object, *, currency: str | None = None, language: str | None = None) -> str:
    """`value` as an amount of `currency` (default settings.INSIGHTS_CURRENCY) for `language`.

    Whole amounts for currencies without cents in daily use (IDR); otherwise 2 places when the
    amount has cents."""
    if value is None or value == "":
        return ""
    amount = _to_decimal(value)
    if amount is None:
        return str(value)
    currency = currency or settings.INSIGHTS_CURRENCY
    language = _language(language)
    places = _ONE if currency in WHOLE_CURRENCIES else _CENT
    amount = amount.quantize(places, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    whole, _dot, cents = f"{abs(amount):f}".partition(".")
    number = _group(whole if cents in ("", "00") else f"{whole}.{cents}", language)
    return _with_currency(sign, number, currency, language, spaced=False)


def money_short_format(
    value: object, *, currency: str | None = None, language: str | None = None
) -> str:
    """A KPI card's short form: `Rp 971,2 jt`, `Rp 1,14 M` (id), `IDR 971.2M` (en).

    Three significant digits at most (two decimals below 10, one below 1,000); amounts under a
    million are written in full. Non-breaking spaces keep it on one line."""
    if value is None or value == "":
        return ""
    amount = _to_decimal(value)
    if amount is None:
        return str(value)
    currency = currency or settings.INSIGHTS_CURRENCY
    language = _language(language)
    for threshold, id_suffix, en_suffix in _SCALES:
        if abs(amount) >= threshold:
            scaled = abs(amount) / threshold
            decimals = 2 if scaled < 10 else 1
            text = number_format(scaled, decimals=decimals, language=language)
            sign = "-" if amount < 0 else ""
            if language == "id":
                return _with_currency(sign, f"{text}{NBSP}{id_suffix}", currency, language, True)
            return f"{sign}{currency}{NBSP}{text}{en_suffix}"
    return money_format(amount, currency=currency, language=language)


@register.filter(name="money")
def money(value: object, currency: str | None = None) -> str:
    return money_format(value, currency=currency or None)


@register.filter(name="money_short")
def money_short(value: object, currency: str | None = None) -> str:
    return money_short_format(value, currency=currency or None)


@register.filter(name="num")
def num(value: object, decimals: int = 2) -> str:
    """Thousands separators and at most `decimals` places in the active language."""
    return number_format(value, decimals=int(decimals))


def day_format(value: object) -> str:
    """A date in the active language's long form ("15 Juni 2025", "June 15, 2025"), never broken
    over two lines; a timestamp gives its local date. '' for none."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, date):
        return str(value)
    return formats.date_format(value, "DATE_FORMAT").replace(" ", NBSP)


def moment_format(value: object) -> str:
    """A timestamp as its local date (day_format) and 24-hour time, never broken."""
    if not isinstance(value, datetime):
        return day_format(value)
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{day_format(local.date())}{NBSP}{local:%H:%M}"


@register.filter(name="day")
def day(value: object) -> str:
    return day_format(value)


@register.filter(name="moment")
def moment(value: object) -> str:
    return moment_format(value)


# Labels the figures use for "none" (METRICS.md): translated for display only; the API and the
# drill-down filters keep them as defined.
_FIXED_LABELS = {
    "Other": gettext_lazy("Other"),
    "Unspecified": gettext_lazy("Unspecified"),
    "All others": gettext_lazy("All others"),
    # A room without an agent (METRICS.md §S).
    "Unassigned": gettext_lazy("Unassigned"),
    # RFM segment names (METRICS.md R), shown in the reader's language.
    "Champions": gettext_lazy("Champions"),
    "Loyal Customers": gettext_lazy("Loyal Customers"),
    "Potential Loyalists": gettext_lazy("Potential Loyalists"),
    "New Customers": gettext_lazy("New Customers"),
    "Promising": gettext_lazy("Promising"),
    "Need Attention": gettext_lazy("Need Attention"),
    "About To Sleep": gettext_lazy("About To Sleep"),
    "Can't Lose Them": gettext_lazy("Can't Lose Them"),
    "At Risk": gettext_lazy("At Risk"),
    "Hibernating": gettext_lazy("Hibernating"),
}


def display_label(value: object) -> str:
    """'Other' → 'Lainnya', 'Champions' → 'Juara' in Indonesian; any other label as written."""
    text = "" if value is None else str(value)
    return str(_FIXED_LABELS.get(text, text))


@register.filter(name="label")
def label(value: object) -> str:
    return display_label(value)


def country_label(code: object) -> str:
    """A country's name in the reader's language ("Singapura", "Singapore") for an ISO code;
    `Other` translated; a code the locale data does not know, as written."""
    text = "" if code is None else str(code)
    if len(text) != 2:
        return display_label(text)
    return _territories(get_language() or settings.LANGUAGE_CODE).get(text.upper(), text)


@lru_cache(maxsize=16)
def _territories(language: str) -> dict[str, str]:
    """The locale's country names, parsed once per language: a page of 200 companies' rows
    would otherwise parse the locale data once per row."""
    try:
        locale = Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    return {code: str(name) for code, name in locale.territories.items()}


@register.filter(name="country")
def country(value: object) -> str:
    return country_label(value)


@register.simple_tag
def changelist_summary(changelist: object) -> list[str]:
    """The active filters of an admin list in words ("Opened 1–31 Oct 2026", "channel:
    WhatsApp"), for the "Showing: …" line of a list a dashboard figure drills down to."""
    if changelist is None:
        return []
    params = {key: value for key, value in getattr(changelist, "params", {}).items() if value}

    def _first(value: object) -> str:
        return str(value[-1] if isinstance(value, list | tuple) else value)

    parts: list[str] = []
    low = params.get("created_at__date__gte")
    high = params.get("created_at__date__lte")
    if low or high:
        parts.append(
            str(gettext_lazy("Opened %(start)s to %(end)s"))
            % {
                "start": _day_param(_first(low)) if low else "…",
                "end": _day_param(_first(high)) if high else "…",
            }
        )
    low, high = params.get("expected_from"), params.get("expected_to")
    if low or high:  # the forecast's drill-downs to the deal list
        parts.append(
            str(gettext_lazy("Expected to close %(start)s to %(end)s"))
            % {
                "start": _day_param(_first(low)) if low else "…",
                "end": _day_param(_first(high)) if high else "…",
            }
        )
    for spec in getattr(changelist, "filter_specs", []):
        if hasattr(spec, "prefix") and isinstance(getattr(spec, "values", None), dict):
            # A date range filter (the deal list's close date): its dates in the reader's form.
            if spec.values:
                start, end = (spec.values.get(n) for n in spec.expected_parameters())
                span = f"{_day_param(start) if start else '…'} – {_day_param(end) if end else '…'}"
                parts.append(f"{spec.title}: {span}")
            continue
        choices = list(spec.choices(changelist))
        for choice in choices[1:]:  # the first is "All"
            if choice.get("selected"):
                parts.append(f"{spec.title}: {display_label(choice['display'])}")
    return parts


def _day_param(value: str) -> str:
    try:
        return day_format(date.fromisoformat(value))
    except ValueError:
        return value
