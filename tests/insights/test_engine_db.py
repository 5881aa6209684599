"""engine.db.float_rows: a read as one float array, PostgreSQL's packed rows equal to the rows
themselves (what np.array makes of the tuples), on both databases."""

import random

import numpy as np
import pytest

from insights.engine import db

pytestmark = pytest.mark.django_db


def _values(seed: int, count: int) -> str:
    """A VALUES list of `count` rows: an id, a whole number up to ±2^53 (a bigint), a small one
    with NULLs and a negative one."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        big = rng.choice([0, 1, -1, 2**53, -(2**53), rng.randrange(-(2**53), 2**53)])
        small = "NULL" if rng.random() < 0.3 else str(rng.randrange(0, 11))
        rows.append(f"({i}, {big}, {small}, {-rng.randrange(1, 10**6)})")
    return "VALUES " + ", ".join(rows)


def _as_tuples(sql: str, params: dict, columns: int) -> np.ndarray:
    return np.array(db.rows(sql, params), dtype=np.float64).reshape(-1, columns)


@pytest.mark.parametrize("seed", [1, 2])
def test_float_rows_are_the_rows_in_order_with_null_as_nan(seed, monkeypatch):
    # given: more rows than one chunk (three chunks and a part), NULLs, 2^53, negatives
    monkeypatch.setattr(db, "FLOAT_ROWS_CHUNK", 700)
    sql = f"""
        SELECT column1, column2, column3, column4 FROM ({_values(seed, 2345)}) v
        WHERE column1 >= %(low)s ORDER BY column2, column1
    """
    # when
    rows = db.float_rows(sql, {"low": 5}, 4)
    # then
    expected = _as_tuples(sql, {"low": 5}, 4)
    assert rows.dtype == np.float64 and rows.shape == (2340, 4)
    assert np.array_equal(rows, expected, equal_nan=True)
    assert np.isnan(rows[:, 2]).any() and (rows[:, 1] == 2.0**53).any()


def test_float_rows_of_sums_and_empty_reads():
    # given: sums (NUMERIC on PostgreSQL), a MAX that is NULL for a whole group
    sql = f"""
        SELECT column1 %% 7, SUM(column2), MAX(CASE WHEN column3 > 20 THEN column3 END),
               COUNT(*)
        FROM ({_values(3, 500)}) v WHERE column1 < %(high)s
        GROUP BY column1 %% 7 ORDER BY column1 %% 7
    """
    # when / then
    assert np.array_equal(
        db.float_rows(sql, {"high": 400}, 4), _as_tuples(sql, {"high": 400}, 4), equal_nan=True
    )
    empty = db.float_rows(sql, {"high": 0}, 4)
    assert empty.shape == (0, 4) and empty.dtype == np.float64
