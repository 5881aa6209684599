"""Exact order statistics over sorted runs, reading a small part of each run.

Why: the service section's nearest-rank percentiles (METRICS.md S, §L) are exact k-th smallest
values over every room of a period. At 1,000,000 people a year holds 3.7M rooms; reading every
duration of them (74 MB from PostgreSQL) and partitioning it took 0.4-1.2 s. Each stored run of
durations (one day's or one month's rooms of a group) is sorted and carries an index: its
value at every `step`-th position and its last value. The runs' indexes bound where the k-th
value of their union lies; only the index blocks that can hold it are read, and the k-th value
among them is found exactly.

The blocks of a run of m sorted values are the positions [j x step, (j + 1) x step) cut to m;
block j holds values in [index[j], index[j + 1]] (the next block starts at index[j + 1], and
the last entry of the index is the run's largest value). Over all blocks of all runs:

* lo: the smallest block start whose blocks starting before it hold fewer than k values (sort
  the blocks by start, the first whose cumulative count reaches k). Every value below lo lies
  in a block starting below lo, so fewer than k values are below lo: the k-th is >= lo.
* hi: sort the blocks by their end; the first whose cumulative count reaches k ends at hi.
  Those blocks hold at least k values, all <= hi: the k-th is <= hi.
* Blocks ending below lo hold only values below lo (counted, not read); blocks starting above
  hi only values above it (skipped); the rest are read. With `below` the count of values below
  lo (the counted blocks and the read values below lo), the k-th value overall is the
  (k - below)-th smallest read value in [lo, hi]: every value in [lo, hi] is in a read block.
* Two shortcuts for ties, which durations in whole seconds have many of: when lo = hi that is
  the k-th value (nothing is read), and a block whose start equals its end holds that value
  only, so it is counted as (value, count) instead of read.

A read block straddles lo or hi in at most one block per run, so a selection reads about
2 x runs x step values plus those between lo and hi, whatever the runs' sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Slice:
    """Positions [first, stop) of run `run` (an index into the runs of the selection)."""

    run: int
    first: int
    stop: int


@dataclass(frozen=True)
class Pick:
    """What to read for the k-th smallest value, and how to find it in what was read."""

    rank: int  # k, 1-based, over the union of the runs
    lo: int
    hi: int
    below: int  # values below lo in the blocks not read
    slices: tuple[Slice, ...]
    # Blocks of one value in [lo, hi] (start == end): (value, how many), counted, not read.
    constant: tuple[tuple[int, int], ...] = ()


class Runs:
    """The blocks of a group's sorted runs, ordered by start and by end, for several ranks.

    `indexes[r]` is run r's index (its values at positions 0, step, 2 x step, ... and its last
    value), `lengths[r]` its number of values, `steps[r]` its step.
    """

    def __init__(
        self, indexes: Sequence[np.ndarray], lengths: Sequence[int], steps: Sequence[int]
    ) -> None:
        kept = [r for r, length in enumerate(lengths) if length]
        self.lengths = np.array([lengths[r] for r in kept], dtype=np.int64)
        self.steps = np.array([steps[r] for r in kept], dtype=np.int64)
        self.kept = np.array(kept, dtype=np.int64)  # the caller's run numbers
        self.total = int(self.lengths.sum())
        n_blocks = -(-self.lengths // self.steps)
        sizes = np.array([len(indexes[r]) for r in kept], dtype=np.int64)
        if np.any(sizes != n_blocks + 1):
            raise ValueError("an index does not match its run's length and step")
        # All runs' entries in one array (one numpy pass per selection, not one per run): a
        # block starts at every entry but a run's last and ends at every entry but its first.
        entries = (
            np.concatenate([indexes[r] for r in kept]).astype(np.int64)
            if kept
            else np.empty(0, dtype=np.int64)
        )
        first_entry = np.cumsum(sizes) - sizes
        last_entry = first_entry + sizes - 1
        self.starts = np.delete(entries, last_entry)
        self.ends = np.delete(entries, first_entry)
        self.runs = np.repeat(np.arange(len(kept), dtype=np.int64), n_blocks)
        first_block = np.cumsum(n_blocks) - n_blocks
        self.blocks = np.arange(len(self.runs), dtype=np.int64) - np.repeat(first_block, n_blocks)
        self.counts = np.repeat(self.steps, n_blocks)
        self.counts[first_block + n_blocks - 1] = self.lengths - self.steps * (n_blocks - 1)
        # Each run's entries are sorted, so a stable sort merges them (timsort finds the runs).
        self.by_start = np.argsort(self.starts, kind="stable")
        self.by_end = np.argsort(self.ends, kind="stable")
        self.start_counts = np.cumsum(self.counts[self.by_start])
        self.end_counts = np.cumsum(self.counts[self.by_end])

    def pick(self, rank: int) -> Pick:
        """The blocks that can hold the `rank`-th smallest value (1 <= rank <= total)."""
        if not 1 <= rank <= self.total:
            raise ValueError(f"rank {rank} outside 1..{self.total}")
        lo = self.starts[self.by_start[np.searchsorted(self.start_counts, rank)]]
        hi = self.ends[self.by_end[np.searchsorted(self.end_counts, rank)]]
        if lo == hi:  # the k-th value is both >= lo and <= hi: nothing to read
            return Pick(rank=rank, lo=int(lo), hi=int(hi), below=0, slices=())
        near = (self.starts <= hi) & (self.ends >= lo)
        # A block whose start and end are equal holds that value only: durations in whole
        # seconds tie a lot (a business time of 0 for every room answered outside business
        # hours), and reading such blocks read millions of values for one percentile.
        same = self.starts == self.ends
        read = np.flatnonzero(near & ~same)
        kept = near & same
        constant = tuple(
            (int(value), int(count))
            for value, count in zip(self.starts[kept].tolist(), self.counts[kept].tolist(),
                                    strict=True)
        )  # fmt: skip
        below = int(self.counts[self.ends < lo].sum())
        # One slice per stretch of consecutive read blocks of a run.
        runs, blocks = self.runs[read], self.blocks[read]
        firsts = np.flatnonzero(
            (np.diff(runs, prepend=-1) != 0) | (np.diff(blocks, prepend=-2) != 1)
        )
        lasts = np.append(firsts[1:], len(runs)) - 1
        run = runs[firsts]
        step = self.steps[run]
        first = blocks[firsts] * step
        stop = np.minimum((blocks[lasts] + 1) * step, self.lengths[run])
        slices = tuple(
            Slice(int(r), int(a), int(b))
            for r, a, b in zip(self.kept[run].tolist(), first.tolist(), stop.tolist(), strict=True)
        )
        return Pick(
            rank=rank, lo=int(lo), hi=int(hi), below=below, slices=slices, constant=constant
        )


def picked_value(pick: Pick, values: Sequence[np.ndarray]) -> int:
    """The k-th smallest value of the runs, from the values read for each of pick.slices."""
    if pick.lo == pick.hi:
        return pick.lo
    read = np.concatenate(values) if values else np.empty(0, dtype=np.int64)
    if len(read) != sum(s.stop - s.first for s in pick.slices):
        raise ValueError("the values read do not match the slices")
    below = pick.below + int(np.count_nonzero(read < pick.lo))
    window = np.sort(read[(read >= pick.lo) & (read <= pick.hi)])
    # The window's values, each once with how many times it is there (read, or counted in a
    # block of one value), ascending: the k-th is where the running count passes k - below.
    each = np.concatenate([window, np.array([v for v, _ in pick.constant], dtype=np.int64)])
    times = np.concatenate(
        [
            np.ones(len(window), dtype=np.int64),
            np.array([n for _, n in pick.constant], dtype=np.int64),
        ]
    )
    order = np.argsort(each, kind="stable")
    running = np.cumsum(times[order])
    position = pick.rank - below
    if not 1 <= position <= (int(running[-1]) if len(running) else 0):
        raise ValueError("the k-th value is not among the values read")
    return int(each[order[np.searchsorted(running, position)]])


def run_index(ordered: np.ndarray, step: int) -> np.ndarray:
    """A sorted run's index: its values at positions 0, step, 2 x step, ... and its last."""
    if not len(ordered):
        return ordered[:0]
    return np.concatenate([ordered[::step], ordered[-1:]])
