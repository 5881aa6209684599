import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

from config.process_warm import process_warm  # noqa: E402  (needs Django set up)

process_warm()
