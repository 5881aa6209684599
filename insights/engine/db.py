"""Running the engine's SQL, and the expressions that differ between PostgreSQL and SQLite.

One time-zone rule: a day is the local date of a timestamp in settings.TIME_ZONE, stored as
its proleptic ordinal (an int). Every statement run here gets that zone bound as %(tz)s by
`rows` and `execute`, so no caller passes (or can pass another) zone. PostgreSQL converts
with `AT TIME ZONE`; SQLite has no zones and calls w_day and friends, Python functions that
insights.sqlite_functions registers on every connection when it opens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection

from common.db_routing import read_connection
from deals import currency as deal_currency
from deals import rules as deal_rules
from deals.models import ExchangeRate

from .. import periods as period_rules
from ..periods import Period, local_today

T_RATE = ExchangeRate._meta.db_table


def _zoned(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    # Bound only where the statement names it: the others keep exactly their own parameters.
    return {**params, "tz": settings.TIME_ZONE} if "%(tz)s" in sql else params


def rows(sql: str, params: dict[str, Any]) -> list[tuple]:
    """Every row of a read. The pinned replica inside a figure-reading request
    (common.db_routing), else the primary."""
    with read_connection().cursor() as cursor:
        cursor.execute(sql, _zoned(sql, params))
        return cursor.fetchall()


def chunks(sql: str, params: dict[str, Any], size: int) -> Iterator[list[tuple]]:
    """The rows of a large read in lists of up to `size` (no million-tuple list in memory),
    from the same connection as `rows`."""
    with read_connection().cursor() as cursor:
        cursor.execute(sql, _zoned(sql, params))
        while batch := cursor.fetchmany(size):
            yield batch


def float_rows(sql: str, params: dict[str, Any], columns: int) -> np.ndarray:
    """Every row of a read of `columns` numeric columns as one float64 array (rows × columns,
    in the read's order, NULL as NaN): what np.array(rows, dtype=float64) makes of the rows.

    PostgreSQL packs each row into one bytea of big-endian float8s, which numpy reads in
    place: a million-row read as Python tuples spent most of its client time making a tuple
    and an int per value (docs/BENCHMARKS.md, round nine). SQLite: the rows themselves. Both
    fetched in chunks (no million-tuple list in memory)."""
    if read_connection().vendor != "postgresql":
        arrays = [
            np.array(batch, dtype=np.float64).reshape(-1, columns)
            for batch in chunks(sql, params, FLOAT_ROWS_CHUNK)
        ]
        return np.concatenate(arrays) if arrays else np.empty((0, columns))
    names = ", ".join(f"c{i}" for i in range(columns))
    # NULL as 'NaN' (what numpy makes of None): one NULL field would make the row's bytes NULL.
    packed = " || ".join(
        f"float8send(COALESCE(CAST(c{i} AS DOUBLE PRECISION), 'NaN'))" for i in range(columns)
    )
    rows_sql = f"SELECT {packed} FROM ({sql}) AS q ({names})"
    arrays = [
        np.frombuffer(b"".join(row[0] for row in batch), dtype=">f8")
        for batch in chunks(rows_sql, params, FLOAT_ROWS_CHUNK)
    ]
    if not arrays:
        return np.empty((0, columns))
    return np.concatenate(arrays).astype(np.float64).reshape(-1, columns)


FLOAT_ROWS_CHUNK = 100_000


def scalar(sql: str, params: dict[str, Any]) -> int:
    """The first column of the first row as an int (0 for NULL).

    PostgreSQL returns SUM(bigint) as numeric: int() makes both databases alike."""
    return int(rows(sql, params)[0][0] or 0)


def execute(sql: str, params: dict[str, Any] | None = None) -> int:
    """Run a write on the primary (a rebuild's statements); rows it touched (0 if unknown).

    Binds the zone and the currency parameters (rate_params) that the rollups' SQL uses."""
    with connection.cursor() as cursor:
        cursor.execute(sql, {"tz": settings.TIME_ZONE, **rate_params(), **(params or {})})
        return max(cursor.rowcount, 0)


def rebuild_memory_set() -> None:
    """PostgreSQL: give this transaction the rebuild's memory for sorts and hashes.

    The stock server's 4 MB work_mem makes the rebuild's sorts and hash joins spill to disk
    (1.05 GB of temporary files per full rebuild at 150,000 people, 42-350 MB with 256 MB;
    docs/BENCHMARKS.md round eight). SET LOCAL: the setting ends with the rebuild's
    transaction, and a web request never sees it. INSIGHTS_REBUILD_WORK_MEM "" keeps the
    server's value."""
    work_mem = settings.INSIGHTS_REBUILD_WORK_MEM
    if connection.vendor != "postgresql" or not work_mem:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])


def span(period: Period) -> tuple[int, int]:
    """A period's first and last day as ordinals, the form every rollup stores days in."""
    return period.start.toordinal(), period.end.toordinal()


def as_of(period: Period) -> int:
    """The as-of date A = min(end, today) of METRICS.md section 1, as an ordinal."""
    return min(period.end, period_rules.local_today()).toordinal()


# --- Vendor expressions ----------------------------------------------------------------------


def day_sql(column: str) -> str:
    """SQL for the local-day ordinal of a timestamp column (bound param %(tz)s)."""
    if connection.vendor == "postgresql":
        return f"((({column}) AT TIME ZONE %(tz)s)::date - DATE '0001-01-01' + 1)"
    return f"w_day({column})"


def date_ordinal_sql(column: str) -> str:
    """SQL for the ordinal of a date column."""
    if connection.vendor == "postgresql":
        return f"({column} - DATE '0001-01-01' + 1)"
    return f"w_dord({column})"


def local_date_sql(column: str) -> str:
    """SQL for the local date of a timestamp column, comparable with a DateField column."""
    if connection.vendor == "postgresql":
        return f"CAST(({column}) AT TIME ZONE %(tz)s AS DATE)"
    return f"w_date(w_day({column}))"


def hundredths_sql(column: str) -> str:
    """SQL for a decimal column in hundredths, as an exact integer."""
    # SQLite keeps decimals as REAL: x*100 is within 1e-6 of an integer, ROUND makes it exact.
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def line_revenue_sum_sql(quantity: str, unit_price: str, rate: str) -> str:
    """SUM of quantity x unit price in 1/10000, which cannot overflow (issue 13, item 4).

    One line may reach 10^6 x 10^12 = 10^18 of money, 10^22 in 1/10000: past bigint. PostgreSQL
    multiplies and sums in NUMERIC (DailySum.amount is NUMERIC(38, 0)); SQLite turns an
    overflowing product into REAL by itself, and w_sum sums without its overflow error.
    A line of a deal in another currency (`rate` not null) is quantity x unit price x rate,
    rounded to cents per line (METRICS.md §3).
    """
    if connection.vendor == "postgresql":
        factors = " * ".join(
            f"CAST(ROUND({column} * 100) AS NUMERIC)" for column in (quantity, unit_price)
        )
        converted = f"ROUND({quantity} * {unit_price} * {rate} * 100) * 100"
        return f"SUM(CASE WHEN {rate} IS NULL THEN {factors} ELSE {converted} END)"
    return (
        f"w_sum(CASE WHEN {rate} IS NULL THEN {hundredths_sql(quantity)} * "
        f"{hundredths_sql(unit_price)} ELSE w_line({quantity}, {unit_price}, {rate}) END)"
    )


def converted_cents_sql(amount: str, rate: str) -> str:
    """Cents of amount x rate, rounded half away from zero (PostgreSQL's NUMERIC ROUND)."""
    if connection.vendor == "postgresql":
        return f"CAST(ROUND({amount} * {rate} * 100) AS BIGINT)"
    return f"w_cents({amount}, {rate})"


def exact_sum_sql(expression: str) -> str:
    """SUM of an integer expression that may pass 64 bits: NUMERIC on PostgreSQL, w_sum here."""
    if connection.vendor == "postgresql":
        return f"SUM(CAST({expression} AS NUMERIC))"
    return f"w_sum({expression})"


def rate_sql(*, deal: str, status: str) -> str:
    """SQL for a deal's exchange rate (METRICS.md §3): NULL in the base currency, else the rate
    of its currency with the latest date on or before its close date (open: today, the bound
    param %(today)s); NULL too when there is none, which `currency_sql` tells apart.
    Params: %(tz)s, %(today)s, %(base)s (rate_params)."""
    today = "CAST(%(today)s AS DATE)" if connection.vendor == "postgresql" else "%(today)s"
    close = local_date_sql(f"COALESCE({deal}.closed_at, {deal}.created_at)")
    return f"""(SELECT er.rate FROM {T_RATE} er
                WHERE er.currency = UPPER(TRIM({deal}.currency))
                  AND er.date <= CASE WHEN {status} = '{deal_rules.OPEN}' THEN {today}
                                      ELSE {close} END
                ORDER BY er.date DESC LIMIT 1)"""


def base_sql(*, deal: str) -> str:
    """SQL true when a deal is in the base currency (blank, or the base in any case)."""
    return f"(TRIM({deal}.currency) = '' OR UPPER(TRIM({deal}.currency)) = %(base)s)"


def rate_params() -> dict[str, str]:
    """The parameters of rate_sql and base_sql: today (local) and the base currency."""
    return {"today": local_today().isoformat(), "base": deal_currency.base_currency()}
