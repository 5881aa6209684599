"""`python manage.py ensure_demo_admin`: a superuser to log in to the demo with."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"
# A demo on 127.0.0.1 only: a fixed, printed password is the point. Never run in production.
PASSWORD = "wawasan-demo"
URL = "http://127.0.0.1:8000/admin/"


class Command(BaseCommand):
    help = f"Create (or reset) the superuser {USERNAME!r} with the demo password and print it."

    def handle(self, *args, **options) -> None:
        user, created = get_user_model().objects.get_or_create(username=USERNAME)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(PASSWORD)
        user.save()
        self.stdout.write(
            f"\n  Admin {'created' if created else 'reset'}: {URL}\n"
            f"    username: {USERNAME}\n    password: {PASSWORD}\n"
        )
