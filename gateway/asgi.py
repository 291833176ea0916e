import os
from asynclab.legacy import get_asgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway.settings")
application = get_asgi_application()
