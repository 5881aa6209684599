"""`python manage.py seed_demo [--people N] [--seed S]`: the demo data set (demo.seed)."""

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from demo.seed import demo_seed


class Command(BaseCommand):
    help = "Write realistic Indonesian demo data (deterministic for a seed; safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=3000, help="persons (default 3000)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")

    def handle(self, *args, people: int, seed: int, **options) -> None:
        counts = demo_seed(people=people, seed=seed, today=timezone.localdate(), now=timezone.now())
        self.stdout.write(
            "demo data: " + ", ".join(f"{count} {name}" for name, count in counts.items())
        )
