import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anonmsg.settings")
application = get_asgi_application()

# A node whose SECRET_KEY differs from the other nodes' does not start (docs/configuration.md).
from anonmsg.shared_secret_key import verify_shared_secret_key  # noqa: E402

verify_shared_secret_key()
