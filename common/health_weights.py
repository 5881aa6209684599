"""INSIGHTS_HEALTH_WEIGHTS (CONTRACT §2, METRICS.md Q), e.g. `purchase=40,recency=30,service=15`.

Pure: the settings module parses the environment with it and turns a ValueError into an
ImproperlyConfigured naming the setting. A component not named weighs 0 (left out of the
mean); at least one weight must be above 0.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

HEALTH_COMPONENTS = ("purchase", "recency", "service", "voice")
DEFAULT_HEALTH_WEIGHTS = "purchase=40,recency=30,service=15,voice=15"


def health_weights_parse(text: str) -> dict[str, float]:
    """{component: weight} for every component (0 when not named); ValueError says what is
    wrong and where (`item 2 'recency=x': ...`)."""
    weights = dict.fromkeys(HEALTH_COMPONENTS, 0.0)
    seen: set[str] = set()
    items = [item.strip() for item in text.split(",")]
    for position, item in enumerate(items, start=1):
        where = f"item {position} {item!r}"
        name, equals, value = item.partition("=")
        name = name.strip().lower()
        if not equals:
            raise ValueError(f"{where}: write name=weight, e.g. purchase=40")
        if name not in HEALTH_COMPONENTS:
            raise ValueError(f"{where}: unknown component; one of {', '.join(HEALTH_COMPONENTS)}")
        if name in seen:
            raise ValueError(f"{where}: {name} is given twice")
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{where}: the weight must be a number") from None
        if not number.is_finite() or number < 0:
            raise ValueError(f"{where}: the weight must be a number of 0 or more")
        seen.add(name)
        weights[name] = float(number)
    if not any(weights.values()):
        raise ValueError("at least one component needs a weight above 0")
    return weights
