"""Money for the reader's language: `Rp30.000.000` in Indonesian, `IDR 30,000,000` in English."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from insights.templatetags.insights_format import money_format


@pytest.mark.parametrize(
    "value, language, expected",
    [
        (Decimal("30000000.00"), "id", "Rp30.000.000"),
        (Decimal("30000000.00"), "en", "IDR 30,000,000"),
        (Decimal("1234567.50"), "id", "Rp1.234.567,50"),
        (Decimal("1234567.50"), "en", "IDR 1,234,567.50"),
        (Decimal("999.005"), "en", "IDR 999.01"),  # half-up to the cent
        (Decimal("0"), "id", "Rp0"),
        (Decimal("-2500000"), "id", "-Rp2.500.000"),
        (Decimal("-2500000"), "en", "-IDR 2,500,000"),
        (30000000, "id", "Rp30.000.000"),
        ("12.30", "en", "IDR 12.30"),
    ],
)
def test_money_format(value, language, expected):
    # given / when
    result = money_format(value, language=language, currency="IDR")

    # then
    assert result == expected


def test_other_currency_keeps_its_code_in_both_languages():
    # given / when / then
    assert money_format(Decimal("1500.5"), currency="USD", language="id") == "USD 1.500,50"
    assert money_format(Decimal("1500.5"), currency="USD", language="en") == "USD 1,500.50"


def test_empty_and_unparseable_values():
    # given / when / then
    assert money_format(None) == ""
    assert money_format("") == ""
    assert money_format("n/a") == "n/a"


@pytest.mark.parametrize("language, expected", [("id", "Rp30.000.000"), ("en", "IDR 30,000,000")])
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
    template = Template("{% load insights_format %}{{ amount|money }}")

    # when
    with translation.override("en"):
        rendered = template.render(Context({"amount": Decimal("10")}))

    # then
    assert rendered == "SGD 10"
