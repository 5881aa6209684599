"""Money and numbers for the reader's language: `Rp30.000.000` in Indonesian, `IDR 30,000,000`
in English, no cents for the rupiah, short forms on KPI cards, thousands separators everywhere.

`NB` is the non-breaking space that keeps a currency code and its amount on one line."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from insights.templatetags.insights_format import (
    money_format,
    money_short_format,
    number_format,
)

NB = "\u00a0"


@pytest.mark.parametrize(
    "value, language, expected",
    [
        (Decimal("30000000.00"), "id", "Rp30.000.000"),
        (Decimal("30000000.00"), "en", f"IDR{NB}30,000,000"),
        # the rupiah has no cents in the UI: rounded half-up to the rupiah
        (Decimal("1234567.50"), "id", "Rp1.234.568"),
        (Decimal("1144032.35"), "en", f"IDR{NB}1,144,032"),
        (Decimal("999.49"), "en", f"IDR{NB}999"),
        (Decimal("0"), "id", "Rp0"),
        (Decimal("-2500000"), "id", "-Rp2.500.000"),
        (Decimal("-2500000"), "en", f"-IDR{NB}2,500,000"),
        (30000000, "id", "Rp30.000.000"),
        ("157250000.00", "en", f"IDR{NB}157,250,000"),
    ],
)
def test_money_format(value, language, expected):
    # given / when
    result = money_format(value, language=language, currency="IDR")

    # then
    assert result == expected


def test_other_currency_keeps_its_code_and_its_cents_in_both_languages():
    # given / when / then
    assert money_format(Decimal("1500.5"), currency="USD", language="id") == f"USD{NB}1.500,50"
    assert money_format(Decimal("1500.5"), currency="USD", language="en") == f"USD{NB}1,500.50"
    assert money_format(Decimal("1500"), currency="USD", language="en") == f"USD{NB}1,500"
    assert money_format(Decimal("999.005"), currency="USD", language="en") == f"USD{NB}999.01"


def test_empty_and_unparseable_values():
    # given / when / then
    assert money_format(None) == ""
    assert money_format("") == ""
    assert money_format("n/a") == "n/a"
    assert money_short_format(None) == ""
    assert number_format("n/a") == "n/a"


@pytest.mark.parametrize(
    "value, language, expected",
    [
        (Decimal("971200000"), "id", f"Rp{NB}971,2{NB}jt"),
        (Decimal("971200000"), "en", f"IDR{NB}971.2M"),
        (Decimal("1144032350.35"), "id", f"Rp{NB}1,14{NB}M"),
        (Decimal("1144032350.35"), "en", f"IDR{NB}1.14B"),
        (Decimal("25000000"), "id", f"Rp{NB}25{NB}jt"),
        (Decimal("3500000000000"), "id", f"Rp{NB}3,5{NB}T"),
        (Decimal("-12340000"), "en", f"-IDR{NB}12.3M"),
        # under a million: the full amount
        (Decimal("750000"), "id", "Rp750.000"),
        (Decimal("750000"), "en", f"IDR{NB}750,000"),
    ],
)
def test_money_short_format(value, language, expected):
    # given / when
    result = money_short_format(value, language=language, currency="IDR")

    # then
    assert result == expected


@pytest.mark.parametrize(
    "value, decimals, language, expected",
    [
        (Decimal("3025.50"), 2, "id", "3.025,5"),
        (Decimal("3025.50"), 2, "en", "3,025.5"),
        (Decimal("37.50"), 2, "id", "37,5"),
        (Decimal("40.00"), 2, "en", "40"),
        (1234567, 0, "id", "1.234.567"),
        (1234567, 0, "en", "1,234,567"),
        (Decimal("0.00"), 2, "en", "0"),
        (Decimal("-1234.565"), 2, "en", "-1,234.57"),
    ],
)
def test_number_format(value, decimals, language, expected):
    # given / when / then
    assert number_format(value, decimals=decimals, language=language) == expected


@pytest.mark.parametrize(
    "language, expected", [("id", "Rp30.000.000"), ("en", f"IDR{NB}30,000,000")]
)
def test_filter_follows_the_active_language_and_settings_currency(settings, language, expected):
    # given
    settings.INSIGHTS_CURRENCY = "IDR"
    template = Template("{% load insights_format %}{{ amount|money }}")

    # when
    with translation.override(language):
        rendered = template.render(Context({"amount": Decimal("30000000.00")}))

    # then
    assert rendered == expected


def test_filter_uses_the_configured_currency(settings):
    # given
    settings.INSIGHTS_CURRENCY = "SGD"
    template = Template("{% load insights_format %}{{ amount|money }} {{ amount|money_short }}")

    # when
    with translation.override("en"):
        rendered = template.render(Context({"amount": Decimal("12500000")}))

    # then
    assert rendered == f"SGD{NB}12,500,000 SGD{NB}12.5M"
