"""Settings, read once from the environment (and an optional `.env` file).

`.env.sample` lists every variable with a comment. Production (`DEBUG=False`) refuses to
start on unsafe values with a sentence that names the variable to set.
"""

import warnings
from datetime import timedelta
from pathlib import Path

import environ
from corsheaders.defaults import default_headers
from django.urls import reverse_lazy
from import_export.formats.base_formats import CSV

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Real environment variables win over the file: read_env only fills what is unset.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SAMPLE_SECRET_KEY = "change-me-this-is-the-sample-key-and-not-secret"  # noqa: S105

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

# Startup stops with one sentence (not a traceback) that names the variable to set.
# The sample key is public (it is in the repository), so it is refused with DEBUG on too: a
# development server reachable by others would sign sessions and tokens with it. `make`
# writes a random key into the .env it creates.
if not SECRET_KEY or SECRET_KEY == SAMPLE_SECRET_KEY:
    raise SystemExit(
        "Set SECRET_KEY (in .env or the environment) to a long random value, such as the "
        'output of python3 -c "import secrets; print(secrets.token_urlsafe(50))": an empty '
        "key or the sample one from .env.sample is refused, with DEBUG on or off."
    )
if not DEBUG and not ALLOWED_HOSTS:
    raise SystemExit(
        "Set ALLOWED_HOSTS to the host names this server answers for: with DEBUG=False it "
        "may not be empty."
    )

# Shown as a label in the admin header, e.g. "Development", "Staging", "Production".
ENVIRONMENT_NAME = env.str("ENVIRONMENT_NAME", default="Development" if DEBUG else "Production")

INSTALLED_APPS = [
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "unfold.contrib.import_export",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "import_export",
    "ninja",  # Swagger UI from the package's bundled assets, no CDN
    "ninja_extra",
    "ninja_jwt",
    "ninja_jwt.token_blacklist",
    "axes",
    "core",
    "users",
    "catalog",
    "library",
    "messaging",
    "jams",
    "scrobbling",
    "stats",
    "subsonic",
    "processing",
]

MIDDLEWARE = [
    # Outermost: an HTML error page from anything below, under /api/, becomes JSON.
    "core.json_errors.api_json_errors_middleware",
    # The client's address from X-Forwarded-For, when a TRUSTED_PROXIES peer sent it.
    "core.proxy.trusted_proxy_middleware",
    "django.middleware.security.SecurityMiddleware",
    "core.request_size.request_size_limit_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Answers a sign-in that axes refused and no view answered (users/lockout.py). Outside
    # the sync-only StorageUnavailableMiddleware, it runs sync like its neighbours: no extra
    # switch between sync and async under ASGI.
    "axes.middleware.AxesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Django fills request.POST and FILES for POST only; this does it for PUT and PATCH.
    "core.bodies.form_bodies_middleware",
    # The bucket away during an admin page: a 503 page saying so (the API answers its own).
    "core.files.unavailable.StorageUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
# The only sign-in page is the admin's; without `?next=` it lands on the dashboard.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# SQLite when DATABASE_URL is unset; PostgreSQL through psycopg 3 with Django's own pool.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
POSTGRESQL_ENGINE = "core.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a pool that checks each connection it hands out (one round trip),
    # so a database restart costs no request, and that answers at once while the database
    # cannot be reached (core/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections, not Django
    # A request waits at most DATABASE_POOL_TIMEOUT for a pooled connection (all busy) before
    # its 503, and a connection attempt or check gives up after DATABASE_CONNECT_TIMEOUT (one
    # that gets no answer at all would otherwise hang for minutes).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=2.0),
        # The pool retries a failed connection with a doubling delay (1, 2, 4 ... s); giving
        # up after this long and starting afresh on the next request bounds how long it may
        # keep waiting once the database is back.
        "reconnect_timeout": 5.0,
    }
    DATABASES["default"]["OPTIONS"]["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=2
    )
    # Nothing is prepared on its own (psycopg's prepare_threshold None, Django's default): a
    # prepared statement may be run with one plan for every value, which suits a read by id
    # and ruins a search (planned without its term, `?search=` walks the whole date index).
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None
    # DATABASE_PREPARED_STATEMENTS: parameters travel apart from the SQL (server-side
    # binding), so the hot reads by id of catalog/prepared.py are prepared once per pooled
    # connection and PostgreSQL stops planning them on every request; every other statement
    # is planned with its values. Off behind a pooler in transaction mode (PgBouncer < 1.21),
    # which loses prepared statements between transactions: then nothing is prepared.
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
else:
    # Writers wait for the lock instead of failing at once under concurrent requests: a
    # transaction takes the write lock when it begins (a deferred one that reads first
    # cannot upgrade its lock later and fails with "database is locked" at once).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    # Write-ahead logging: readers never wait for the writer, and a commit appends to the
    # log instead of rewriting a journal, synced at checkpoints (a power cut may lose the
    # last commits, never the file's integrity). A chat message's write went from 2.0 to
    # 0.8 ms (docs/PERFORMANCE.md, "Real time at scale").
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # Each thread keeps its connection: opening one registers Django's SQL functions and runs
    # the pragmas, about 5 ms of CPU, which every request and socket event paid again.
    DATABASES["default"]["CONN_MAX_AGE"] = None
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default=None)}
# Threads serving the sync part of HTTP requests under ASGI (uvicorn, `make run`), reused
# from request to request (core/asgi_handler.py). Two: one runs Python while the other waits
# on the database, and more only contend with the event loop for the GIL (docs/PERFORMANCE.md,
# "One crossing a request"); a stream leaves the set while it is sent. More requests wait
# their turn on the event loop, at most ASGI_THREAD_WAIT_SECONDS (the pool's timeout), then
# get a 503 with Retry-After: raise ASGI_THREADS where slow requests are common.
_POOL = DATABASES["default"].get("OPTIONS", {}).get("pool", {})
ASGI_THREADS = env.int("ASGI_THREADS", default=2)
ASGI_THREAD_WAIT_SECONDS = env.float("ASGI_THREAD_WAIT_SECONDS", default=_POOL.get("timeout", 2.0))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "users.User"

# --- Cache and Redis ------------------------------------------------------------------
# Redis when REDIS_URL is set: throttles, cache and Socket.IO then span processes.
REDIS_URL = env.str("REDIS_URL", default="")
# Connect and read timeout of every Redis client (cache, Socket.IO, presence, health): a dead
# or unreachable Redis fails fast instead of holding requests.
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=1.0)
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache that answers from process memory while Redis is unreachable
            # (core/cache.py), so sign-in and the stats keep working through an outage.
            "BACKEND": "core.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="music"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background jobs (core/jobs.py, docs/JOBS.md) ------------------------------------
# On PostgreSQL a job is a row of procrastinate's queue, written in the transaction that asks
# for it, and run by worker processes (`manage.py procrastinate worker`); on SQLite, where
# procrastinate cannot run, jobs run in the server process after commit, on a few threads.
JOBS_BACKEND = (
    "procrastinate" if DATABASES["default"]["ENGINE"] == POSTGRESQL_ENGINE else "in_process"
)
if JOBS_BACKEND == "procrastinate":
    # Before the apps whose tasks register with it; its migrations are PostgreSQL's only,
    # so on SQLite the app (and its tables) is not installed at all.
    INSTALLED_APPS.insert(INSTALLED_APPS.index("core"), "procrastinate.contrib.django")
# Runs of a job before it ends failed (the first included); between two runs it waits
# JOBS_RETRY_BASE_SECONDS, doubled after each failure, at most JOBS_RETRY_MAX_SECONDS:
# with the defaults 10, 20, 40 and 80 s.
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=5)
JOBS_RETRY_BASE_SECONDS = env.float("JOBS_RETRY_BASE_SECONDS", default=10.0)
JOBS_RETRY_MAX_SECONDS = env.float("JOBS_RETRY_MAX_SECONDS", default=3600.0)
# SQLite: the threads of the server process that run jobs after commit.
JOBS_IN_PROCESS_THREADS = env.int("JOBS_IN_PROCESS_THREADS", default=2)
# PostgreSQL: a worker writes its heartbeat every JOBS_HEARTBEAT_SECONDS; one silent for
# JOBS_STALLED_AFTER_SECONDS is taken for dead (killed, its host gone), and a sweep every
# JOBS_STALLED_CHECK_SECONDS (a divisor of 60, or a whole number of minutes) puts its jobs
# back in the queue: a dead worker's job runs again within about 30 + 60 s with these.
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=10.0)
JOBS_STALLED_AFTER_SECONDS = env.float("JOBS_STALLED_AFTER_SECONDS", default=30.0)
JOBS_STALLED_CHECK_SECONDS = env.int("JOBS_STALLED_CHECK_SECONDS", default=60)
# Finished jobs (succeeded, failed, cancelled) are deleted this many hours after their end.
JOBS_KEEP_FINISHED_HOURS = env.int("JOBS_KEEP_FINISHED_HOURS", default=24 * 7)
PROCRASTINATE_WORKER_DEFAULTS = {
    # Jobs each worker process runs at once (sync tasks each take a thread).
    "concurrency": env.int("JOBS_WORKER_CONCURRENCY", default=2),
    "update_heartbeat_interval": JOBS_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": JOBS_STALLED_AFTER_SECONDS,
    # New jobs wake a worker at once (LISTEN/NOTIFY); a retry due later is found by polling.
    "fetch_job_polling_interval": env.float("JOBS_POLL_SECONDS", default=5.0),
}
# Modules of tasks besides every app's `tasks.py` (the tests' own, for their workers).
PROCRASTINATE_IMPORT_PATHS = env.list("JOBS_IMPORT_PATHS", default=[])

# --- Auth -----------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The one account (besides superusers) that is an admin; public registration refuses it.
ADMIN_EMAIL = env.str("ADMIN_EMAIL", default="")

NINJA_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
}

# Failed sign-ins allowed per email and per client address (users/lockout.py), and how long
# a lock lasts after the failure that reached a limit; a failure is forgotten that long after
# the latest one for its email and address.
LOGIN_MAX_FAILURES_PER_EMAIL = env.int("LOGIN_MAX_FAILURES_PER_EMAIL", default=5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("LOGIN_MAX_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)

# The sign-in lockout is django-axes'. Its backend goes first: every authenticate() with a
# request is refused while the email or the address is locked, and counts when it fails.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # checks only; ModelBackend signs in and has perms
    "django.contrib.auth.backends.ModelBackend",
]
# The database handler: the failures and the admins' sign-ins are rows an admin reads, and
# unlocks by deleting, in the admin; every process shares them, Redis or not; and their times
# say when a lock ends (Retry-After). Its subclass holds each parameter to its own limit.
AXES_HANDLER = "users.lockout.SignInLockoutHandler"
# Counted per email and, apart, per client address (not per pair): past either limit both the
# API's login and the admin's page refuse, even the right password.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Axes' one limit, for its log lines and the admin's "locked out" filter; the handler applies
# LOGIN_MAX_FAILURES_PER_EMAIL and LOGIN_MAX_FAILURES_PER_ADDRESS.
AXES_FAILURE_LIMIT = LOGIN_MAX_FAILURES_PER_EMAIL
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
# An attempt refused during a lock is not a new failure: the lock's end does not move.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The right password clears its email's failures (users.services.user_authenticate), not the
# address's: axes' reset would clear both, and one account of one's own would then reset the
# address's count between guesses at others.
AXES_RESET_ON_SUCCESS = False
# Sign-ins pass the email as `username` (Django's authenticate()), compared as stored.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "users.lockout.sign_in_name"
# REMOTE_ADDR, which core.proxy has rewritten behind TRUSTED_PROXIES (never X-Forwarded-For
# from anyone else).
AXES_CLIENT_IP_CALLABLE = "core.proxy.client_address"
AXES_LOCKOUT_CALLABLE = "users.lockout.lockout_response"
# No banner at every start (each manage.py command); each failure is still logged, without the
# email and address (AXES_SENSITIVE_PARAMETERS), which the admin's "Failed sign-ins" show.
AXES_VERBOSE = False

# Other abuse limits (429 with Retry-After past them), counted in the Django cache (Redis when
# REDIS_URL is set, so every process counts together):
# messages a user may send per minute (REST and Socket.IO together), and registration attempts
# per client address per hour.
MESSAGES_PER_MINUTE = env.int("MESSAGES_PER_MINUTE", default=30)
REGISTRATIONS_PER_ADDRESS_PER_HOUR = env.int("REGISTRATIONS_PER_ADDRESS_PER_HOUR", default=10)

# --- Uploads --------------------------------------------------------------------------
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
AUDIO_MAX_BYTES = env.int("AUDIO_MAX_BYTES", default=50 * 1024 * 1024)
# Decompression-bomb guard: images with more pixels than this are refused.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)
FILE_UPLOAD_PERMISSIONS = 0o644
# Request bodies are counted as they arrive and refused with 413 once past their cap, with or
# without a declared length (core/body_limit.py). A multipart upload from a signed-in caller
# (valid bearer token, or an admin session) may hold one audio file, one image and the form
# fields (64 KiB for the multipart framing and the fields).
MAX_REQUEST_BYTES = env.int(
    "MAX_REQUEST_BYTES", default=AUDIO_MAX_BYTES + IMAGE_MAX_BYTES + 64 * 1024
)
# Every other body (JSON, and anything from an anonymous caller).
JSON_MAX_BYTES = env.int("JSON_MAX_BYTES", default=1024 * 1024)
# Django's cap on a body read whole (`request.body`, as for JSON) and on a form's text fields
# together; uploaded files are not counted (Django keeps a file of up to
# FILE_UPLOAD_MAX_MEMORY_SIZE in memory and spools a larger one to disk). Past it Django raises
# RequestDataTooBig: core.bodies answers 413 for a form's fields, and a JSON body that large
# was refused already by the body caps above.
DATA_UPLOAD_MAX_MEMORY_SIZE = JSON_MAX_BYTES

# When set (e.g. "/protected-media/"), audio streams are handed to nginx by X-Accel-Redirect.
MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")

# Trending and made for you are computed from plays at most once per this many seconds, for
# all the processes that share the cache (Redis when REDIS_URL is set); 0 recomputes them on
# every request. Song rows are always read fresh: only the ids are cached
# (catalog/selectors/discovery.py). The genre list's counts are recomputed as often
# (catalog/selectors/genres.py).
DISCOVERY_REFRESH_SECONDS = env.int("DISCOVERY_REFRESH_SECONDS", default=60)
# The one search box keeps each term's ranked song, album and artist ids this many seconds
# (0: never): a term searched again costs a read by id instead of a trigram search. Rows are
# read fresh; a new song is found once its term's ranking expires.
SEARCH_CACHE_SECONDS = env.int("SEARCH_CACHE_SECONDS", default=10)

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
# A relative MEDIA_ROOT is taken from the project folder.
MEDIA_ROOT = BASE_DIR / env.str("MEDIA_ROOT", default="media")
# The app serves /media/ itself only when asked (the default for `make run`); in production
# the web server or the object store does.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
# whitenoise answers static files (admin, Swagger UI) with a sync FileResponse, which Django
# reads in a thread under ASGI and warns about on every file. Audio streams are async
# iterators (catalog/streaming.py; tests pin their flat memory), so nothing else hits this.
warnings.filterwarnings(
    "ignore",
    message="StreamingHttpResponse must consume synchronous iterators",
    module="django.core.handlers.asgi",
)
# Uploaded files go to an S3-compatible bucket when STORAGE_BUCKET is set (django-storages with
# boto3, core/files/object_storage.py), else to MEDIA_ROOT on disk. The bucket stays private:
# no ACL is set, and URLs are presigned for MEDIA_URL_EXPIRY_SECONDS unless MEDIA_PUBLIC_URL
# (the public address of the bucket's root, e.g. a CDN) says where it is served publicly.
STORAGE_BUCKET = env.str("STORAGE_BUCKET", default="")
MEDIA_PUBLIC_URL = env.str("MEDIA_PUBLIC_URL", default="")
MEDIA_URL_EXPIRY_SECONDS = env.int("MEDIA_URL_EXPIRY_SECONDS", default=300)
# Each call to the bucket waits at most this long to connect and, once connected, for each
# read; it is tried STORAGE_MAX_ATTEMPTS times in all. A bucket that hangs thus costs a call
# at most attempts x (connect + read) seconds (2 x 8 = 16 s by default), well under the
# worker timeout (GUNICORN_TIMEOUT, 30 s): the client gets 503, not a killed worker. A
# multipart upload stuck midway waits twice (its parts, then their abort): about 22 s.
STORAGE_CONNECT_TIMEOUT = env.float("STORAGE_CONNECT_TIMEOUT", default=3.0)
STORAGE_READ_TIMEOUT = env.float("STORAGE_READ_TIMEOUT", default=5.0)
STORAGE_MAX_ATTEMPTS = env.int("STORAGE_MAX_ATTEMPTS", default=2)
# With a bucket, how the audio stream is served: "redirect" answers 302 to a presigned (or
# public) URL of the object; "proxy" streams it through the app with ranged reads.
MEDIA_STREAM_MODE = env.str("MEDIA_STREAM_MODE", default="redirect")
if MEDIA_STREAM_MODE not in ("redirect", "proxy"):
    raise SystemExit('Set MEDIA_STREAM_MODE to "redirect" or "proxy".')
if STORAGE_BUCKET and MEDIA_ACCEL_REDIRECT:
    raise SystemExit(
        "Leave MEDIA_ACCEL_REDIRECT empty when STORAGE_BUCKET is set: nginx serves files from "
        "disk, and MEDIA_STREAM_MODE says how audio in the bucket is served."
    )


# --- Audio processing (processing/: renditions, loudness, waveforms) ----------------------
# The ffmpeg to run: empty means the one shipped in the imageio-ffmpeg wheel (installed with
# the project); a path names a system ffmpeg instead. Each run is an argument list, never a
# shell, and is stopped after FFMPEG_TIMEOUT_SECONDS of wall-clock time; its address space is
# capped at FFMPEG_MEMORY_LIMIT_MB and it decodes on at most FFMPEG_THREADS threads. Files that
# declare more than PROCESSING_MAX_DURATION_SECONDS of audio are refused before ffmpeg starts.
# MEDIA_PIPELINE: each new or replaced audio is processed by background jobs (off: stored and
# streamed as sent, as the tests do unless they test the pipeline).
MEDIA_PIPELINE = env.bool("MEDIA_PIPELINE", default=True)
FFMPEG_BINARY = env.str("FFMPEG_BINARY", default="")
FFMPEG_TIMEOUT_SECONDS = env.float("FFMPEG_TIMEOUT_SECONDS", default=600.0)
FFMPEG_MEMORY_LIMIT_MB = env.int("FFMPEG_MEMORY_LIMIT_MB", default=1024)
FFMPEG_THREADS = env.int("FFMPEG_THREADS", default=2)
PROCESSING_MAX_DURATION_SECONDS = env.int("PROCESSING_MAX_DURATION_SECONDS", default=4 * 3600)


def bucket_storage(bucket: str, **options) -> dict:
    """The STORAGES entry of a bucket (settings and tests build it the same way)."""
    endpoint_url = options.pop("endpoint_url", "") or None
    return {
        "BACKEND": "core.files.object_storage.BucketStorage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "access_key": options.pop("access_key", "") or None,
            "secret_key": options.pop("secret_key", "") or None,
            "region_name": options.pop("region_name", "") or None,
            "location": options.pop("location", "").strip("/"),
            "public_url": options.pop("public_url", ""),
            "querystring_auth": True,
            "querystring_expire": options.pop("expiry_seconds", 300),
            "default_acl": None,  # private: never a public ACL
            "file_overwrite": True,  # names are random: no existence check before a write
            "signature_version": "s3v4",
            # S3-compatible servers (MinIO, moto...) take the bucket in the path.
            "addressing_style": "path" if endpoint_url else None,
            # A file opened for reading (bulk-load checks) spills to disk past 1 MiB.
            "max_memory_size": 1024 * 1024,
            **options,
        },
    }


STORAGES = {
    "default": bucket_storage(
        STORAGE_BUCKET,
        endpoint_url=env.str("STORAGE_ENDPOINT_URL", default=""),
        access_key=env.str("STORAGE_ACCESS_KEY_ID", default=""),
        secret_key=env.str("STORAGE_SECRET_ACCESS_KEY", default=""),
        region_name=env.str("STORAGE_REGION", default=""),
        location=env.str("STORAGE_PREFIX", default=""),
        public_url=MEDIA_PUBLIC_URL,
        expiry_seconds=MEDIA_URL_EXPIRY_SECONDS,
    )
    if STORAGE_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- HTTP and security ----------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
# A web player on another origin reads the stream's headers and sends its conditional and
# ranged requests (the audio stream, catalog/streaming.py); Retry-After goes with 429 and 503.
CORS_EXPOSE_HEADERS = ["Content-Range", "Accept-Ranges", "Content-Length", "ETag", "Retry-After"]
CORS_ALLOW_HEADERS = (*default_headers, "range", "if-range", "if-none-match")
# Browser origins Socket.IO accepts (default: the API's CORS origins; none means same origin).
SOCKETIO_CORS_ALLOWED_ORIGINS = env.list(
    "SOCKETIO_CORS_ALLOWED_ORIGINS", default=CORS_ALLOWED_ORIGINS
)
# With Redis, a server process whose presence heartbeat is older than this many seconds is
# taken for dead and its sockets no longer count as online.
SOCKETIO_PRESENCE_TTL_SECONDS = env.int("SOCKETIO_PRESENCE_TTL_SECONDS", default=30)
# Presence changes (who came, who left, activities) reach every socket as one `presence` frame
# at most this often: the first change after a quiet spell at once, the rest of the window
# together at its end (messaging/realtime/batch.py). A connect storm of N sockets then costs
# each socket a frame a window, not N frames each carrying everyone.
SOCKETIO_PRESENCE_BATCH_SECONDS = env.float("SOCKETIO_PRESENCE_BATCH_SECONDS", default=0.1)
# Also send the Node original's presence events (user_connected, user_disconnected,
# activity_updated, and `activities` to everyone when someone comes online), for frontends
# that do not read `presence` yet. Off once every client reads `presence` (docs/API.md, 8).
SOCKETIO_LEGACY_PRESENCE_EVENTS = env.bool("SOCKETIO_LEGACY_PRESENCE_EVENTS", default=True)
# Threads that run the sockets' database work (checking a token, storing a message), apart
# from the one thread Django's sync code shares: a message does not queue behind every
# other socket's work. At most the database pool's size is useful; on SQLite one, which
# takes one writer at a time: more only wait in its busy handler's sleeps (up to 100 ms).
SOCKETIO_DATABASE_THREADS = env.int(
    "SOCKETIO_DATABASE_THREADS",
    default=4 if DATABASES["default"]["ENGINE"] == POSTGRESQL_ENGINE else 1,
)
# Scrobbling (scrobbling/, docs/API.md "Scrobbling"): plays and "now playing" sent to
# ListenBrainz by background jobs. The API's base address (a local fake in the tests), and how
# long one call to it may take, in the play's job or while a token is checked.
LISTENBRAINZ_API_URL = env.str("LISTENBRAINZ_API_URL", default="https://api.listenbrainz.org")
SCROBBLING_TIMEOUT_SECONDS = env.float("SCROBBLING_TIMEOUT_SECONDS", default=10.0)
# Last.fm: this server's API account (https://www.last.fm/api/account/create); both unset,
# Last.fm cannot be linked (its routes answer 409). pylast speaks HTTPS only: LASTFM_API_URL
# names another host or port, LASTFM_CA_FILE a certificate authority to trust besides the
# system's (a private deployment, the tests' fake).
LASTFM_API_KEY = env.str("LASTFM_API_KEY", default="")
LASTFM_API_SECRET = env.str("LASTFM_API_SECRET", default="")
LASTFM_API_URL = env.str("LASTFM_API_URL", default="https://ws.audioscrobbler.com/2.0/")
LASTFM_CA_FILE = env.str("LASTFM_CA_FILE", default="")

# Jams (jams/, docs/API.md "Jams"): commands are scheduled ahead by twice the slowest
# member's round trip, within these bounds; a buffering member holds the room at most the
# timeout; a Jam no socket is in closes after the idle time; commands and queue edits are
# limited per user in ten seconds.
JAM_MIN_LEAD_MS = env.int("JAM_MIN_LEAD_MS", default=300)
JAM_MAX_LEAD_MS = env.int("JAM_MAX_LEAD_MS", default=2000)
JAM_BUFFER_TIMEOUT_SECONDS = env.float("JAM_BUFFER_TIMEOUT_SECONDS", default=5.0)
JAM_IDLE_SECONDS = env.int("JAM_IDLE_SECONDS", default=300)
JAM_COMMANDS_PER_10_SECONDS = env.int("JAM_COMMANDS_PER_10_SECONDS", default=20)
# How often each Socket.IO process marks its Jams active, closes idle ones and ends
# buffering holds past their timeout.
JAM_SWEEP_SECONDS = env.float("JAM_SWEEP_SECONDS", default=2.0)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Proxies whose X-Forwarded-For names the client (core/proxy.py), e.g. nginx at 127.0.0.1 in
# front of gunicorn; uvicorn with --proxy-headers needs none.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The health check must answer plain HTTP probes from the load balancer.
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 30)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
X_FRAME_OPTIONS = "DENY"
# HSTS preload is a commitment browsers keep for months; operators opt in with
# SECURE_HSTS_PRELOAD=True, so the deploy check's reminder (W021) is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Admin (Unfold) ------------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "Music admin",
    "SITE_HEADER": "Music",
    "SITE_SUBHEADER": "Catalog and listeners",
    "SITE_SYMBOL": "library_music",
    # /favicon.ico answers with core/static/core/favicon.svg (config/urls.py).
    "SITE_FAVICONS": [{"rel": "icon", "type": "image/svg+xml", "href": reverse_lazy("favicon")}],
    "SITE_URL": "/api/docs",
    "SHOW_VIEW_ON_SITE": False,
    "ENVIRONMENT": "config.unfold.environment_callback",
    "DASHBOARD_CALLBACK": "stats.dashboard.dashboard_callback",
    "COLORS": {
        # A green primary, as players of this kind wear.
        "primary": {
            "50": "oklch(98.2% .018 155.826)",
            "100": "oklch(96.2% .044 156.743)",
            "200": "oklch(92.5% .084 155.995)",
            "300": "oklch(87.1% .15 154.449)",
            "400": "oklch(79.2% .209 151.711)",
            "500": "oklch(72.3% .219 149.579)",
            "600": "oklch(62.7% .194 149.214)",
            "700": "oklch(52.7% .154 150.069)",
            "800": "oklch(44.8% .119 151.328)",
            "900": "oklch(39.3% .095 152.535)",
            "950": "oklch(26.6% .065 152.934)",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": False,
        "navigation": [
            {
                "title": "Catalog",
                "items": [
                    {
                        "title": "Songs",
                        "icon": "music_note",
                        "link": reverse_lazy("admin:catalog_song_changelist"),
                    },
                    {
                        "title": "Albums",
                        "icon": "album",
                        "link": reverse_lazy("admin:catalog_album_changelist"),
                    },
                    {
                        "title": "Artists",
                        "icon": "mic",
                        "link": reverse_lazy("admin:catalog_artist_changelist"),
                    },
                    {
                        "title": "Plays",
                        "icon": "play_circle",
                        "link": reverse_lazy("admin:catalog_play_changelist"),
                    },
                    {
                        "title": "Folder imports",
                        "icon": "drive_folder_upload",
                        "link": reverse_lazy("admin:catalog_folderimportrun_changelist"),
                        "permission": "catalog.admin.may_import_folders",
                    },
                ],
            },
            {
                "title": "Library",
                "items": [
                    {
                        "title": "Playlists",
                        "icon": "queue_music",
                        "link": reverse_lazy("admin:library_playlist_changelist"),
                    },
                ],
            },
            {
                "title": "People",
                "items": [
                    {
                        "title": "Users",
                        "icon": "person",
                        "link": reverse_lazy("admin:users_user_changelist"),
                    },
                    {
                        "title": "Groups",
                        "icon": "group",
                        "link": reverse_lazy("admin:auth_group_changelist"),
                    },
                ],
            },
            {
                "title": "Chat",
                "items": [
                    {
                        "title": "Messages",
                        "icon": "chat",
                        "link": reverse_lazy("admin:messaging_message_changelist"),
                    },
                    {
                        "title": "Jams",
                        "icon": "groups",
                        "link": reverse_lazy("admin:jams_jam_changelist"),
                    },
                ],
            },
            {
                "title": "Platform",
                "items": [
                    {
                        "title": "Dashboard",
                        "icon": "dashboard",
                        "link": reverse_lazy("admin:index"),
                    },
                    {
                        # Every failed run of a background job, with its error (core/jobs.py).
                        "title": "Job failures",
                        "icon": "error",
                        "link": reverse_lazy("admin:core_jobfailure_changelist"),
                    },
                    {
                        "title": "Blacklisted tokens",
                        "icon": "block",
                        "link": reverse_lazy("admin:token_blacklist_blacklistedtoken_changelist"),
                    },
                    {
                        # django-axes: the failures that count now; deleting one unlocks.
                        "title": "Failed sign-ins",
                        "icon": "lock_person",
                        "link": reverse_lazy("admin:axes_accessattempt_changelist"),
                    },
                    {
                        "title": "Admin sign-ins",
                        "icon": "login",
                        "link": reverse_lazy("admin:axes_accesslog_changelist"),
                    },
                ],
            },
        ],
    },
}

if JOBS_BACKEND == "procrastinate":
    # The queue's jobs, their state and last error (on SQLite jobs run in the server: no queue).
    _platform = next(g for g in UNFOLD["SIDEBAR"]["navigation"] if g["title"] == "Platform")
    _platform["items"].insert(
        1,
        {
            "title": "Jobs",
            "icon": "pending_actions",
            "link": reverse_lazy("admin:procrastinate_procrastinatejob_changelist"),
        },
    )

# CSV import and export: a bad row rolls the whole import back; only admins (who hold every
# permission, see User.has_perm) have the "import"/"export" codes, which no role grants.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_FORMATS = [CSV]  # the bulk-loading format; one choice keeps the forms simple
# The admin's CSV import runs as jobs (catalog/csv_import.py): the uploaded file is kept in
# this folder, never served (default: csv-imports/ beside MEDIA_ROOT; in the private bucket's
# csv-imports/ when STORAGE_BUCKET is set, so that workers on other hosts read it).
CSV_IMPORT_ROOT = env.str("CSV_IMPORT_ROOT", default="")
CSV_IMPORT_MAX_BYTES = env.int("CSV_IMPORT_MAX_BYTES", default=64 * 1024 * 1024)
CSV_IMPORT_BATCH_ROWS = env.int("CSV_IMPORT_BATCH_ROWS", default=500)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_per_request": {"()": "config.logging.WithoutNinjaExtraRequestLines"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # One line per record: Django's own console handler would print it a second time.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # Refused and failed requests, once each (config/logging.py); the server's access log
        # has the rest.
        "django.request": {"level": "WARNING", "filters": ["one_line_per_request"]},
        # One line per failed sign-in (a warning), not axes' three with its steps.
        "axes": {"level": "WARNING"},
        # A worker logs each job's start and end; not the registering of its tasks at every
        # start, nor each periodic job it defers (the stalled-job sweep every minute).
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
    },
}
