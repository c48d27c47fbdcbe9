"""WSGI entry point, for serving the plain HTTP paths from gunicorn where throughput matters."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxgear.settings")
application = get_wsgi_application()
