"""Django settings for dualcontrol.

Environment (all optional in demo/test mode):
- ``DUALCONTROL_ENV``: ``demo`` (default; embedded SQLite, demo users allowed), ``test``,
  or ``production`` (requires ``DJANGO_SECRET_KEY`` and ``DJANGO_ALLOWED_HOSTS``; refuses DEBUG,
  wildcard hosts, SQLite, a default or weak key, and — at start-up — any demo account:
  ``dualcontrol.checks``). HTTPS settings: ``DJANGO_SECURE_PROXY_SSL_HEADER``,
  ``DJANGO_SECURE_SSL_REDIRECT``, ``DJANGO_SECURE_HSTS_*`` (docs/operations.md §2).
- ``DATABASE_URL``: e.g. ``postgres://user@127.0.0.1:5432/dualcontrol``; default SQLite file.
- ``DUALCONTROL_DATA_DIR``: where the SQLite file, uploads and outbox live (default ``./var``).
- ``DUALCONTROL_PROXY_COUNT``: reverse proxies in front that append to X-Forwarded-For (default 0);
  login lockouts and API rate limits count per client address.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import csp.constants
import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from dualcontrol.accounts.policy import load_login_policy

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("DUALCONTROL_DATA_DIR", Path.cwd() / "var")).resolve()

ENV = os.environ.get("DUALCONTROL_ENV", "demo")
if ENV not in {"demo", "test", "production"}:
    raise ImproperlyConfigured(f"DUALCONTROL_ENV must be demo, test or production, not {ENV!r}")
PRODUCTION = ENV == "production"
DEMO_MODE = ENV in {"demo", "test"}

_INSECURE_KEY = "insecure-demo-key-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", _INSECURE_KEY)

DEBUG = os.environ.get("DJANGO_DEBUG", "0" if PRODUCTION else "1") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    # second factor (TOTP + recovery codes): dualcontrol.accounts.second_factor
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",  # login throttling and lockout (accounts.lockout)
    "dualcontrol.audit",
    "dualcontrol.accounts",
    "dualcontrol.regions",
    "dualcontrol.entities",
    "dualcontrol.reporting",
    "dualcontrol.rollups",
    "dualcontrol.targets",
    # after targets: its demo writes verified key-project reductions into the statistics
    # before the apps that read them (assessment, publishing) build their part of the demo
    "dualcontrol.projects",
    "dualcontrol.metering",
    "dualcontrol.tasks",
    "dualcontrol.monitoring",
    "dualcontrol.assessment",
    "dualcontrol.publishing",
    "dualcontrol.keyunits",
    "dualcontrol.carbonmarket",
    "dualcontrol.rights",
    "dualcontrol.exchange",
    "dualcontrol.timeseries",  # partitions, retention and roll-ups of the raw time series
    "django_q",  # background jobs (Q_CLUSTER below); before dualcontrol.jobs (its admin)
    "dualcontrol.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # static files from the WSGI process itself (gunicorn behind nginx): right after security
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # a NUL character in any parameter: 400 before any view (PostgreSQL cannot store it)
    "dualcontrol.nul_bytes.RejectNulMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # the acting user for audit entries written by signal handlers; records every download
    "dualcontrol.audit.middleware.AuditMiddleware",
    # which device verified this session; then: no page (and no session-authenticated API call)
    # for a user who must pass the second factor and has not
    "django_otp.middleware.OTPMiddleware",
    "dualcontrol.accounts.second_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # idle and absolute session limits, then the forced change of an initial password
    "dualcontrol.accounts.sessions.SessionLimitMiddleware",
    "dualcontrol.accounts.passwords.ForcedPasswordChangeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # last: turns a lockout flagged during authentication into the lockout page / JSON answer
    "axes.middleware.AxesMiddleware",
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
            # {% if user|may:"rule" %}: templates ask dualcontrol.access.rules
            "builtins": [
                "dualcontrol.accounts.templatetags.access_tags",
                "dualcontrol.accounts.templatetags.source_tags",
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
    # The embedded database under concurrent requests (issue 13: "database is locked"):
    # - WAL: readers never wait for the writer, the writer never waits for readers;
    # - IMMEDIATE: a transaction takes the write lock when it begins, so two transactions that
    #   read and then write queue on the busy timeout instead of one failing at once when it
    #   tries to upgrade its read lock (a deadlock SQLite resolves by refusing);
    # - a busy timeout of 20 s for that queue (seconds; technical, not a domain figure).
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

if PRODUCTION:
    # every insecure setting at once, before anything runs (the same rules run again as system
    # checks against the live settings, with the demo-account check: dualcontrol.checks)
    from dualcontrol.checks import insecure_settings

    _problems = insecure_settings(
        debug=DEBUG,
        allowed_hosts=ALLOWED_HOSTS,
        engine=DATABASES["default"]["ENGINE"],
        secret_key=SECRET_KEY,
    )
    if _problems:
        raise ImproperlyConfigured(
            "DUALCONTROL_ENV=production refuses these settings:\n"
            + "\n".join(f"- {message} ({check_id})" for check_id, message in _problems)
        )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login policy (等保 2.0 8.1.4.1): numbers from reference/data/login_policy.yaml
LOGIN_POLICY = load_login_policy()
AUTHENTICATION_BACKENDS = [
    # first: refuses any attempt (right password included) while username + address are locked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = LOGIN_POLICY.failure_limit
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_POLICY.cool_off_minutes)
AXES_LOCKOUT_PARAMETERS = [list(LOGIN_POLICY.lock_by)]
AXES_RESET_ON_SUCCESS = LOGIN_POLICY.reset_on_success
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_ENABLE_ADMIN = False  # accounts.admin registers audited versions of axes' admin pages
AXES_LOCKOUT_CALLABLE = "dualcontrol.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "dualcontrol.accounts.lockout.client_ip"
AXES_VERBOSE = False
# number of reverse proxies in front of the application that append to X-Forwarded-For (0 = none:
# the client address is REMOTE_ADDR); lockouts and API rate limits count per client address
PROXY_COUNT = int(os.environ.get("DUALCONTROL_PROXY_COUNT", "0"))
# exchange between levels (issue 22): the province (division code) this installation speaks for
# when it holds several; one province needs no setting. The demo holds Yunnan and Guizhou and
# exchanges as Yunnan.
EXCHANGE_IDENTITY = os.environ.get("DUALCONTROL_EXCHANGE_IDENTITY", "530000" if DEMO_MODE else "")
NINJA_NUM_PROXIES = PROXY_COUNT
API_THROTTLE_RATES = dict(LOGIN_POLICY.rates)

_VALIDATION = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": f"{_VALIDATION}.MinimumLengthValidator",
        "OPTIONS": {"min_length": LOGIN_POLICY.min_length},
    },
    {
        "NAME": "dualcontrol.accounts.passwords.CharacterClassValidator",
        "OPTIONS": {"min_classes": LOGIN_POLICY.min_classes},
    },
    *(
        [{"NAME": "dualcontrol.accounts.passwords.UsernameValidator"}]
        if LOGIN_POLICY.refuse_username
        else []
    ),
    *([{"NAME": f"{_VALIDATION}.CommonPasswordValidator"}] if LOGIN_POLICY.refuse_common else []),
    {
        "NAME": "dualcontrol.accounts.passwords.PasswordHistoryValidator",
        "OPTIONS": {"history": LOGIN_POLICY.history},
    },
]
# session limits (accounts.sessions.SessionLimitMiddleware): idle and absolute, in seconds
SESSION_IDLE_TIMEOUT = LOGIN_POLICY.idle_minutes * 60
SESSION_ABSOLUTE_TIMEOUT = int(LOGIN_POLICY.absolute_hours * 3600)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
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
# the mail server (mails go out through the outbox, dualcontrol.jobs; docs/operations.md)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("DJANGO_EMAIL_USE_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("DJANGO_EMAIL_USE_SSL", "0") == "1"
EMAIL_TIMEOUT = int(os.environ.get("DJANGO_EMAIL_TIMEOUT", "30"))  # seconds; a hung server
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "noreply@localhost")

# Background jobs: django-q2 with its ORM broker on the platform's own database (SQLite or PostgreSQL).
# Not django-tasks (no periodic schedules) nor Procrastinate (PostgreSQL only; SQLite is the default).
Q_CLUSTER = {
    "name": "dualcontrol",
    "orm": "default",
    "workers": int(os.environ.get("DUALCONTROL_WORKERS", "2")),
    "timeout": 1800,  # seconds: the longest job (a province-wide run) is stopped after this
    "retry": 1860,  # a task not acknowledged by then is handed out again (> timeout)
    "max_attempts": 2,  # …at most twice (a crashed worker); failures are kept, never retried
    "ack_failures": True,
    "catch_up": False,  # after downtime a schedule runs once, not once per missed slot
    "save_limit": 200,  # successful tasks kept per function (the every-minute mail run
    "save_limit_per": "func",  # would otherwise push the nightly and monthly jobs out)
    "poll": 1,
    "label": _("后台任务队列"),
}

FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- Security headers and static files (issue 23; docs/operations.md §2) -----------------
# Content-Security-Policy in every mode, so a page it breaks breaks in the demo and the tests too.
# Scripts: the platform's own files, plus inline blocks carrying the request's nonce
# (``nonce="{{ request.csp_nonce }}"``); no inline event handlers (static/js/platform.js does
# that job with data- attributes), no eval. Styles keep 'unsafe-inline': ECharts writes style
# attributes into its tooltips and templates use them; scripts are what CSP must stop.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.constants.SELF],
        "script-src": [csp.constants.SELF, csp.constants.NONCE],
        "style-src": [csp.constants.SELF, csp.constants.UNSAFE_INLINE],
        "img-src": [csp.constants.SELF, "data:"],  # ECharts exports, Swagger UI icons
        "font-src": [csp.constants.SELF, "data:"],
        "connect-src": [csp.constants.SELF],
        "object-src": [csp.constants.NONE],
        "base-uri": [csp.constants.SELF],
        "form-action": [csp.constants.SELF],
        "frame-ancestors": [csp.constants.NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# WhiteNoise serves /static/: in production from STATIC_ROOT (``dualcontrol manage collectstatic``)
# with hashed names and compressed copies; in demo/test straight from the source folders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

if PRODUCTION:
    # HTTPS only. Behind a TLS-terminating proxy (nginx) set DJANGO_SECURE_PROXY_SSL_HEADER to the
    # header the proxy sets, e.g. X-Forwarded-Proto (the proxy must overwrite a client's value).
    SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
    _proxy_header = os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
    if _proxy_header:
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = (
        os.environ.get("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
    )
    # preload is a promise for the whole registrable domain (a government domain the platform
    # does not own), made by its owner: opt-in, and Django's reminder about it is silenced
    SECURE_HSTS_PRELOAD = os.environ.get("DJANGO_SECURE_HSTS_PRELOAD", "0") == "1"
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True  # pages pass the token in the form or the hx-headers attribute

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DUALCONTROL_LOG_LEVEL", "WARNING")},
}

PLATFORM_NAME = _("节能减排目标责任管理平台")
