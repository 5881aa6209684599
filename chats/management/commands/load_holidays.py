"""`python manage.py load_holidays [--year Y ...]`: national holidays into the business hours."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from chats.holidays_load import national_holidays_load


class Command(BaseCommand):
    help = "Load Indonesia's national holidays (this year and next unless --year is given)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--year", type=int, action="append", dest="years")
        parser.add_argument("--country", default="ID")

    def handle(self, *args, years=None, country="ID", **options) -> None:
        today = timezone.localdate()
        years = years or [today.year, today.year + 1]
        loaded = national_holidays_load(years=years, country=country)
        self.stdout.write(
            f"Holidays of {', '.join(map(str, years))}: {loaded.created} added, "
            f"{loaded.updated} renamed."
        )
