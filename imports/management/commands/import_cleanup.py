"""`python manage.py import_cleanup`: remove import files past WAWASAN_IMPORT_RETENTION_DAYS."""

from django.core.management.base import BaseCommand

from imports.jobs import import_files_cleanup, retention


class Command(BaseCommand):
    help = "Remove uploaded and rejected-row files of import jobs older than the retention."

    def handle(self, *args, **options) -> None:
        removed = import_files_cleanup()
        self.stdout.write(f"removed {removed} file(s) older than {retention().days} day(s)")
