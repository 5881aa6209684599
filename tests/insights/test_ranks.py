"""insights.engine.ranks: the k-th smallest value over sorted runs, read through their indexes,
equals the k-th of the sorted union (random runs with ties, empty runs, steps 1 to 9)."""

import random

import numpy as np
import pytest

from insights.engine.ranks import Runs, picked_value, run_index


def _kth_through_indexes(
    runs: list[np.ndarray], step: int | list[int], rank: int
) -> tuple[int, int]:
    """(the k-th value, how many values were read) the way insights.service reads them."""
    steps = [step] * len(runs) if isinstance(step, int) else step
    grouped = Runs(
        [run_index(run, s) for run, s in zip(runs, steps, strict=True)],
        [len(r) for r in runs],
        steps,
    )
    pick = grouped.pick(rank)
    values = [runs[s.run][s.first : s.stop] for s in pick.slices]
    return picked_value(pick, values), sum(len(v) for v in values)


@pytest.mark.parametrize("seed", range(40))
def test_every_rank_equals_the_sorted_union(seed):
    # given: runs of random lengths (some empty), values from a narrow or a wide range
    rng = random.Random(seed)
    spread = rng.choice([3, 50, 10**6])
    runs = [
        np.sort(
            np.array(
                [rng.randrange(-spread, spread) for _ in range(rng.choice([0, 1, 2, 7, 40, 130]))],
                dtype=np.int64,
            )
        )
        for _ in range(rng.randrange(1, 8))
    ]
    # One step for every run, or (written by rebuilds with other steps) one each.
    step = rng.choice([rng.randrange(1, 10), [rng.randrange(1, 10) for _ in runs]])
    union = np.sort(np.concatenate(runs))
    if not len(union):
        pytest.skip("no values drawn")

    # when / then: every rank
    for rank in range(1, len(union) + 1):
        value, _read = _kth_through_indexes(runs, step, rank)
        assert value == union[rank - 1], (rank, step)


def test_a_selection_reads_a_few_blocks_per_run_not_the_runs():
    # given: 30 runs of 10,000 distinct values each, indexed every 64th
    rng = np.random.default_rng(7)
    runs = [np.sort(rng.exponential(7200, 10_000).astype(np.int64)) for _ in range(30)]
    union = np.sort(np.concatenate(runs))

    for rank in (150_000, 270_000, 1, len(union)):
        # when
        value, read = _kth_through_indexes(runs, 64, rank)

        # then: exact, from at most a few blocks per run of the 300,000 values
        assert value == union[rank - 1]
        assert read <= 30 * 64 * 4


def test_the_index_holds_every_step_th_value_and_the_last():
    ordered = np.array([1, 2, 3, 5, 8, 13, 21])
    assert run_index(ordered, 3).tolist() == [1, 5, 21, 21]
    assert run_index(ordered, 7).tolist() == [1, 21]
    assert run_index(ordered[:0], 3).tolist() == []


def test_a_rank_outside_the_values_is_refused():
    runs = Runs([np.array([4, 4])], [2], [5])
    with pytest.raises(ValueError):
        runs.pick(3)


def test_ties_are_counted_not_read():
    # given: 30 runs where most values tie (a business time of 0 for rooms answered outside
    # business hours), and a few distinct values above them
    rng = np.random.default_rng(3)
    runs = [
        np.sort(np.concatenate([np.zeros(6_000, dtype=np.int64), rng.integers(1, 9, 3_000),
                                rng.integers(10, 10**5, 1_000)]))
        for _ in range(30)
    ]  # fmt: skip
    union = np.sort(np.concatenate(runs))

    for rank in (150_000, 200_000, 270_000, 285_000):
        # when
        value, read = _kth_through_indexes(runs, 64, rank)

        # then: exact, reading a few blocks per run, not the tied values
        assert value == union[rank - 1]
        assert read <= 30 * 64 * 4
