"""WSGI entry point (gunicorn: ``dualcontrol.wsgi:application``).

In production the process refuses to start while any system check reports an error — demo
accounts in the database, static files not collected, insecure settings (``dualcontrol.checks``):
gunicorn's workers then fail to boot and the master exits with the list of problems.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dualcontrol.settings")
application = get_wsgi_application()

from dualcontrol.checks import refuse_to_start_if_insecure  # noqa: E402  (needs Django set up)

refuse_to_start_if_insecure()
