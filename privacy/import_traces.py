"""An erased person in the Import CSV page's files and job rows (issue 27 item 2).

An upload waits on disk between its dry run and its confirmation, and a job keeps its rejected
rows (a CSV file) and its first rejected lines (on the ImportJob row) for days. The erasure
reaches them all:
- an upload with a row naming the person is removed, and every job of that file is marked
  (`erased_at`): its dry run can no longer be confirmed, which would bring the person back;
- the rows naming them leave the rejected-rows file, and their first rejected lines go.

A row names the person when a cell holds one of their emails, phones or identity keys (in any
format that normalises to the key), their full name, or (in a column of record ids) the
external id of one of their records; or when two cells hold their first and last names.
privacy reads the files itself: it sits beside imports and never imports it.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import phonenumbers
from django.db.models import Q
from django.utils import timezone

from audit.models import ImportJob
from customers.keys import email_key, phone_key

_NOT_DIGIT = re.compile(r"[^0-9]")
ID_COLUMNS = {"external_id", "contact_external_id", "chat_contact_external_id"}
MIN_PHONE_DIGITS = 6


class PersonMatcher:
    """Whether a CSV row or a piece of text names the erased person."""

    def __init__(
        self,
        *,
        needles: Iterable[str],
        keys: set[str],
        external_ids: Iterable[str],
        names: Iterable[tuple[str, str]],
    ) -> None:
        self.needles = {n.strip().lower() for n in needles if n and len(n.strip()) >= 3}
        self.keys = keys
        self.external_ids = {i.strip().lower() for i in external_ids if i and i.strip()}
        self.names = [(f.lower(), s.lower()) for f, s in names if f.strip() and s.strip()]
        # The national digits of their phone keys: a cell is parsed as a phone (slow) only
        # when its digits contain one of them.
        self.phone_digits = {
            str(phonenumbers.parse(key).national_number)
            for key in keys
            if key.startswith("+") and _parses(key)
        }

    def text(self, value: str) -> bool:
        lowered = value.lower()
        return any(needle in lowered for needle in self.needles)

    def cell(self, value: str) -> bool:
        if self.text(value):
            return True
        if "@" in value and email_key(value) in self.keys:
            return True
        if not self.phone_digits:
            return False
        digits = _NOT_DIGIT.sub("", value)
        return (
            len(digits) >= MIN_PHONE_DIGITS
            and any(national in digits for national in self.phone_digits)
            and phone_key(value) in self.keys
        )

    def might_name(self, joined: str, *, digits: bool = True) -> bool:
        """A quick test on cells joined: False only when no rule can match them."""
        if any(needle in joined for needle in self.needles):
            return True
        if any(i in joined for i in self.external_ids):
            return True
        if any(first in joined and last in joined for first, last in self.names):
            return True
        if not digits or not self.phone_digits:
            return False
        only_digits = _NOT_DIGIT.sub("", joined)
        return any(national in only_digits for national in self.phone_digits)

    def row(self, header: list[str], cells: list[str]) -> bool:
        if not self.might_name("\x1f".join(cells).lower()):
            return False
        stripped = [cell.strip() for cell in cells]
        for name, cell in zip(header, stripped, strict=False):
            if name in ID_COLUMNS and cell.lower() in self.external_ids:
                return True
        if any(self.cell(cell) for cell in stripped if cell):
            return True
        lowered = {cell.lower() for cell in stripped}
        return any(first in lowered and last in lowered for first, last in self.names)


def _parses(key: str) -> bool:
    try:
        phonenumbers.parse(key)
    except phonenumbers.NumberParseException:
        return False
    return True


def _records(path: Path) -> Iterator[list[str]]:
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield from csv.reader(text)
        except csv.Error:
            # The rest of a file the importer refused too: read it as lines (what it holds).
            yield from ([line] for line in text)


_NON_DIGIT_BYTES = bytes(b for b in range(256) if not 48 <= b <= 57)


def file_might_name(path: Path, matcher: PersonMatcher) -> bool:
    """The quick test of a whole file (C-speed on bytes): False only when no row can match."""
    data = path.read_bytes()
    lowered = data.decode("utf-8", "surrogateescape").lower()
    if matcher.might_name(lowered, digits=False):
        return True
    digits = data.translate(None, _NON_DIGIT_BYTES).decode("ascii")
    return any(national in digits for national in matcher.phone_digits)


def file_names_person(path: Path, matcher: PersonMatcher) -> bool:
    if not file_might_name(path, matcher):
        return False
    records = _records(path)
    header = [name.strip() for name in next(records, [])]
    return any(matcher.row(header, cells) for cells in records)


def file_rows_remove(path: Path, matcher: PersonMatcher) -> set[int]:
    """Rewrite a rejected-rows file without the person's rows; their 0-based data indexes."""
    if not file_might_name(path, matcher):
        return set()
    records = _records(path)
    header = next(records, None)
    if header is None:
        return set()
    dropped: set[int] = set()
    kept: list[list[str]] = []
    for index, cells in enumerate(records):
        if matcher.row(header, cells):
            dropped.add(index)
        else:
            kept.append(cells)
    if dropped:
        temporary = path.with_name(f"{path.name}.erasing")
        with temporary.open("w", encoding="utf-8", errors="surrogateescape", newline="") as out:
            writer = csv.writer(out)  # the cells were neutralised when first written
            writer.writerow(header)
            writer.writerows(kept)
        os.replace(temporary, path)
    return dropped


def import_jobs_redact(*, matcher: PersonMatcher) -> dict[str, int]:
    """Cut the person out of every import job's files and first rejected lines."""
    now = timezone.now()
    uploads_removed = rows_removed = jobs_reached = 0
    jobs = ImportJob.objects.exclude(Q(path="") & Q(first_rejections=[])).order_by("pk")
    by_path: dict[str, list[ImportJob]] = {}
    for job in jobs.iterator():
        by_path.setdefault(job.path, []).append(job)
    for path, siblings in by_path.items():
        upload = Path(path) if path else None
        upload_hit = bool(upload and upload.is_file() and file_names_person(upload, matcher))
        if upload_hit and upload is not None:
            upload.unlink(missing_ok=True)
            uploads_removed += 1
        for job in siblings:
            dropped: set[int] = set()
            rejected = Path(job.rejected_path)
            if path and rejected.is_file():
                dropped = file_rows_remove(rejected, matcher)
                rows_removed += len(dropped)
            first = [
                entry
                for index, entry in enumerate(job.first_rejections or [])
                if index not in dropped and not matcher.text(str(entry.get("reason", "")))
            ]
            if upload_hit or dropped or first != job.first_rejections:
                ImportJob.objects.filter(pk=job.pk).update(first_rejections=first, erased_at=now)
                jobs_reached += 1
    return {
        "import_jobs_reached": jobs_reached,
        "import_uploads_removed": uploads_removed,
        "import_rejected_rows_removed": rows_removed,
    }
