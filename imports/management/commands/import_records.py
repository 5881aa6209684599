"""`python manage.py import_records KIND PATH [--atomic]` (CONTRACT.md section 1)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from imports.importer import (
    KINDS,
    ImportFileError,
    Rejection,
    import_records,
    rejected_rows_writer,
)


class Command(BaseCommand):
    help = "Load a UTF-8 CSV file of KIND (upsert by external_id); '-' reads standard input."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS))
        parser.add_argument("path", help="CSV file, or - for standard input")
        parser.add_argument(
            "--atomic", action="store_true", help="load nothing at all when any row is bad"
        )

    def handle(self, *args, kind: str, path: str, atomic: bool, **options) -> None:
        if path == "-":
            # Bytes, decoded per row: bytes that are not UTF-8 reject their row, not the file.
            stream = sys.stdin.buffer
            rejected_path = Path("rejected.csv")
        else:
            try:
                stream = open(path, "rb")  # noqa: SIM115
            except OSError as error:
                raise CommandError(f"cannot read {path}: {error.strerror}", returncode=2) from None
            rejected_path = Path(f"{path}.rejected.csv")

        rejected_file = None
        rejected_writer = None

        def on_rejection(rejection: Rejection, header: list[str]) -> None:
            nonlocal rejected_file, rejected_writer
            for column, reason in rejection.errors:
                where = f"{column}: " if column else ""
                self.stderr.write(f"line {rejection.line}: {where}{reason}")
            if rejected_writer is None:
                rejected_file = rejected_path.open("w", encoding="utf-8", newline="")
                rejected_writer = rejected_rows_writer(header, rejected_file)
            rejected_writer(rejection)

        # Progress only for a person at a terminal; logs and pipes get the summary alone.
        bar = tqdm(unit=" rows", file=sys.stderr, disable=not sys.stderr.isatty())
        try:
            with stream:
                result = import_records(
                    kind=kind,
                    stream=stream,
                    atomic=atomic,
                    on_rejection=on_rejection,
                    progress=bar.update,
                )
        except ImportFileError as error:
            raise CommandError(f"{path}: {error}", returncode=2) from None
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text", returncode=2) from None
        finally:
            bar.close()
            if rejected_file is not None:
                rejected_file.close()
        if rejected_file is None and rejected_path.exists():
            # A clean load must not leave the rejections of an earlier run lying about.
            rejected_path.unlink()
        if result.rejected:
            where = "standard input" if path == "-" else path
            self.stderr.write(
                f"{result.rejected} row(s) of {where} rejected; see {rejected_path}"
                + ("; --atomic: nothing was loaded" if atomic else "")
            )
        self.stdout.write(result.summary())
        if result.rejected:
            sys.exit(1)
