"""Django settings for dualcontrol.

Environment (all optional in demo/test mode):
- ``DUALCONTROL_ENV``: ``demo`` (default; embedded SQLite, demo users allowed), ``test``,
  or ``production`` (requires ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``; refuses the
  default key and any demo data).
- ``DATABASE_URL``: e.g. ``postgres://user@127.0.0.1:5432/dualcontrol``; default SQLite file.
- ``DUALCONTROL_DATA_DIR``: where the SQLite file, uploads and outbox live (default ``./var``).
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("DUALCONTROL_DATA_DIR", Path.cwd() / "var")).resolve()

ENV = os.environ.get("DUALCONTROL_ENV", "demo")
if ENV not in {"demo", "test", "production"}:
    raise ImproperlyConfigured(f"DUALCONTROL_ENV must be demo, test or production, not {ENV!r}")
PRODUCTION = ENV == "production"
DEMO_MODE = ENV in {"demo", "test"}

_INSECURE_KEY = "insecure-demo-key-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _INSECURE_KEY)
if PRODUCTION and (SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "Production refuses the default secret key: set DJANGO_SECRET_KEY (at least 32 characters)."
    )

DEBUG = os.environ.get("DJANGO_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Production needs DJANGO_ALLOWED_HOSTS.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dualcontrol.audit",
    "dualcontrol.accounts",
    "dualcontrol.regions",
    "dualcontrol.entities",
    "dualcontrol.reporting",
    "dualcontrol.targets",
    # after targets: its demo writes verified key-project reductions into the statistics
    # before the apps that read them (assessment, publishing) build their part of the demo
    "dualcontrol.projects",
    "dualcontrol.metering",
    "dualcontrol.tasks",
    "dualcontrol.monitoring",
    "dualcontrol.assessment",
    "dualcontrol.publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dualcontrol.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "dualcontrol.accounts.context.platform",
            ],
        },
    },
]

WSGI_APPLICATION = "dualcontrol.wsgi.application"
ASGI_APPLICATION = "dualcontrol.asgi.application"

_default_db = f"sqlite:///{DATA_DIR / 'dualcontrol.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _default_db, conn_max_age=0 if DEMO_MODE else 60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update({"timeout": 20})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
# ISO dates first in forms (``<input type="date">`` shows nothing else): see that module
FORMAT_MODULE_PATH = ["dualcontrol.formats_locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if not PRODUCTION
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = DATA_DIR / "outbox"

FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DUALCONTROL_LOG_LEVEL", "WARNING")},
}

PLATFORM_NAME = _("节能减排目标责任管理平台")
