import os

from asynclab.django31 import get_asgi_application
from asynclab.warmup import warm

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
application = warm(get_asgi_application())
