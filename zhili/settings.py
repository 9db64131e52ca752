"""Django settings for Zhili, configured from the environment (see README "Configuration")."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from zhili.datadir import data_dir, secret_file

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("ZHILI_SECRET_KEY") or secret_file("secret_key")
DEBUG = env_bool("ZHILI_DEBUG", False)
ALLOWED_HOSTS = env_list("ZHILI_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("ZHILI_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "zhili.core",
    "zhili.accounts",
    "zhili.orgs",
    "zhili.places",
    "zhili.people",
    "zhili.dashboard",
    "zhili.geo",
    "zhili.notices",
    "zhili.cases",
    "zhili.iot",
    "zhili.environment",
    "zhili.system",
    "zhili.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "zhili.core.middleware.RequestIdMiddleware",
    "zhili.core.middleware.RejectNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "zhili.system.middleware.RequestActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "zhili.core.middleware.LoginRequiredMiddleware",
    "zhili.accounts.middleware.SessionSecurityMiddleware",
    "zhili.accounts.middleware.PasswordChangeRequiredMiddleware",
    "zhili.accounts.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "zhili.urls"
WSGI_APPLICATION = "zhili.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Permissions from roles (R-10.3-rbac) and direct grants, cached; authorises only, first.
    "zhili.system.backends.RoleBackend",
    "zhili.accounts.backends.AccountBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "zhili.core.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite in the data folder by default; DATABASE_URL=postgresql://… for production.
DEFAULT_SQLITE = f"sqlite:///{DATA_DIR / 'zhili.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", DEFAULT_SQLITE))}
DB_POOL_MAX = int(os.environ.get("ZHILI_DB_POOL_MAX", "10"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers proceed while one writer commits; IMMEDIATE avoids upgrade deadlocks.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
            "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = None
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A bounded pool: the server never opens more connections than PostgreSQL allows.
    if env_bool("ZHILI_DB_POOL", True):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_MAX,
            "timeout": 10,
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = 60
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "zhili.accounts.hashers.ZhiliArgon2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Profile "mlps" or "asvs" (ZHILI_PASSWORD_PROFILE): length, classes, common lists, history.
    {"NAME": "zhili.accounts.policy.PolicyValidator"},
]
# Sign-in, session and 2FA settings; defaults and meaning in zhili/accounts/conf.py (R-10.3-ident).
ZHILI_AUTH = {
    "PASSWORD_PROFILE": os.environ.get("ZHILI_PASSWORD_PROFILE", "mlps"),
    "SESSION_IDLE_MINUTES": int(os.environ.get("ZHILI_SESSION_IDLE_MINUTES", "30")),
    "SESSION_ABSOLUTE_HOURS": int(os.environ.get("ZHILI_SESSION_ABSOLUTE_HOURS", "12")),
    "LOCKOUT_FAILURES": int(os.environ.get("ZHILI_LOCKOUT_FAILURES", "5")),
    "LOCKOUT_MINUTES": int(os.environ.get("ZHILI_LOCKOUT_MINUTES", "15")),
    "SELF_REGISTRATION": env_bool("ZHILI_SELF_REGISTRATION", True),
    "WEBAUTHN_RP_ID": os.environ.get("ZHILI_WEBAUTHN_RP_ID", ""),
    "CLIENT_CERT_HEADER": os.environ.get("ZHILI_CLIENT_CERT_HEADER", ""),
    "CLIENT_CERT_VERIFY_HEADER": os.environ.get("ZHILI_CLIENT_CERT_VERIFY_HEADER", ""),
}

# Internationalisation: Simplified Chinese by default, English switchable (R-0-i18n).
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

# Uploads: imports stream from a temporary file; anything larger is refused with a clear error.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
ZHILI_IMPORT_MAX_BYTES = int(os.environ.get("ZHILI_IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))

SESSION_ENGINE = "zhili.accounts.session_store"  # Django's db sessions, read with one prepared statement
SESSION_COOKIE_HTTPONLY = True
# The absolute session limit; the idle limit is checked per request (zhili.accounts.sessions).
SESSION_COOKIE_AGE = int(os.environ.get("ZHILI_SESSION_ABSOLUTE_HOURS", "12")) * 3600
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("ZHILI_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
# Behind a reverse proxy, take the client address from X-Forwarded-For (for audit and throttling).
ZHILI_TRUST_X_FORWARDED_FOR = env_bool("ZHILI_TRUST_X_FORWARDED_FOR", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("ZHILI_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = True
# The browsers' HSTS preload list is for public domains; an intranet host name cannot join it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that an anonymous or bad-token API call is answered 401 with WWW-Authenticate.
        "zhili.accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["zhili.core.api.permissions.ActionPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "zhili.core.api.pagination.FastPagination",
    "PAGE_SIZE": 50,
    "DATETIME_FORMAT": "iso-8601",
    "EXCEPTION_HANDLER": "zhili.core.api.exceptions.exception_handler",
    # Rate limits per client address (anonymous) and per user; 429 with Retry-After beyond them.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("ZHILI_API_RATE_ANON", "600/min"),
        "user": os.environ.get("ZHILI_API_RATE_USER", "6000/min"),
    },
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zhili 智理 API",
    "DESCRIPTION": "REST API of the Zhili digital governance platform (R-11.2.1-api).",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is bundled (drf-spectacular-sidecar): nothing loads from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema describes every endpoint: signed-in users only (R-10.3-rbac).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "message": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # Audit events as JSON lines until the hash-chained store takes over (R-10.3-audit).
        "audit_file": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(DATA_DIR / "audit.log"),
            "formatter": "message",
            "encoding": "utf-8",
        },
    },
    "loggers": {
        "zhili.audit": {"handlers": ["audit_file"], "level": "INFO", "propagate": False},
        "zhili": {"handlers": ["console"], "level": os.environ.get("ZHILI_LOG_LEVEL", "INFO")},
        "django.request": {"handlers": ["console"], "level": "ERROR"},
    },
}

# Zhili's own settings. Values marked [U] in domain-facts are settings, not truths.
ZHILI = {
    # GB 11643 numbers whose address code is missing from python-stdnum's bundled list:
    # "accept" (checksum and birth date still verified) or "reject". See docs/adr/0002.
    "ID_UNKNOWN_REGION": os.environ.get("ZHILI_ID_UNKNOWN_REGION", "accept"),
    # Rows an import converts and writes at a time. Its memory peak is about 2.5 KB a row of the
    # batch (12 MB at 5,000); each batch costs a few round trips (5,000 was ~10% faster than 2,000).
    "IMPORT_BATCH_SIZE": 5000,
    # Rows SQLite's ANALYZE examines per index (0: all). See zhili/core/dbstats.py.
    "SQLITE_ANALYSIS_LIMIT": int(os.environ.get("ZHILI_SQLITE_ANALYSIS_LIMIT", "0")),
    "IMPORT_MAX_ERRORS": 500,
    # PostgreSQL: ANALYZE after a large import runs in a background thread (zhili/core/dbstats.py).
    "STATISTICS_IN_BACKGROUND": env_bool("ZHILI_STATISTICS_IN_BACKGROUND", True),
    "CONFORMANCE_REPORT": os.environ.get("ZHILI_CONFORMANCE_REPORT", str(DATA_DIR / "conformance.json")),
    "MAP_CENTER": [119.96, 30.27],
    # Optional online/intranet base tiles for the map page, e.g. Tianditu with a key
    # ("https://t0.tianditu.gov.cn/vec_w/wmts?...&tk=KEY"); empty = the town's own data only.
    "MAP_TILE_URL": os.environ.get("ZHILI_MAP_TILE_URL", ""),
    # WMTS tile cache (default: <data dir>/tiles) and storey height of the 3D view.
    "TILE_CACHE_DIR": os.environ.get("ZHILI_TILE_CACHE_DIR", ""),
    "FLOOR_HEIGHT_M": 3.0,
    "UNIT_MODEL": "orgs.Department",
}
NAV_GROUPS = [
    ("party", _("Party building")),
    ("town", _("Town governance")),
    ("social", _("Social governance")),
    ("community", _("Digital community")),
    ("rural", _("Rural digitalisation")),
    ("sharing", _("Data sharing")),
    ("system", _("System management")),
]
