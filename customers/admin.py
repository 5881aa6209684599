from django.contrib import admin  # noqa: F401

from . import admin_snapshot  # noqa: F401  (snapshot, rules and data-quality admin)
