import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.process_warm import process_warm  # noqa: E402  (needs Django set up)

process_warm()
