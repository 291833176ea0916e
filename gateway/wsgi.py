import os

from django.core.wsgi import get_wsgi_application

from asynclab.warmup import warm

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
application = warm(get_wsgi_application())
