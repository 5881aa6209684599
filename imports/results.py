"""What an import reports: the file-level error, the counts, and each rejected row."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from common.csv_cells import csv_cell


class ImportFileError(Exception):
    """The file as a whole is refused (exit 2): unreadable, or a required column is missing."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0

    def summary(self) -> str:
        return (
            f"created {self.created}, updated {self.updated}, "
            f"unchanged {self.unchanged}, rejected {self.rejected}"
        )


@dataclass
class Rejection:
    line: int
    values: list[str]
    errors: list[tuple[str, str]]

    @property
    def reason(self) -> str:
        # A reason about the whole row (not UTF-8, too many cells) names no column.
        return "; ".join(
            f"{column}: {reason}" if column else reason for column, reason in self.errors
        )


@dataclass
class Row:
    """One parsed row: model field values plus references still to resolve."""

    line: int
    raw: list[str]
    values: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)  # column -> referenced key
    errors: list[tuple[str, str]] = field(default_factory=list)


def rejected_rows_writer(header: Iterable[str], out: TextIO) -> Callable[[Rejection], None]:
    """A csv writer for rejected rows: the original cells plus a `reason` column.

    The file is meant to be opened in a spreadsheet and fixed, so a cell a spreadsheet would run
    as a formula gets a leading apostrophe, by the API export's rule (CSV injection).
    """
    header = list(header)
    writer = csv.writer(out)
    writer.writerow([csv_cell(name) for name in [*header, "reason"]])

    def write(rejection: Rejection) -> None:
        cells = list(rejection.values[: len(header)])
        cells += [""] * (len(header) - len(cells))
        writer.writerow([csv_cell(cell) for cell in [*cells, rejection.reason]])

    return write
