"""gunicorn settings for the HTTP API, the admin and static files (WSGI, sync workers).

    gunicorn config.wsgi:application -c deploy/gunicorn.conf.py

Django answers a detail read 1.05 to 1.15 times as fast under these workers as under
uvicorn, where every request crosses from the event loop to a thread, and their timeout and
recycling bound a stuck request (docs/PERFORMANCE.md). Sync workers hold one request each,
so they belong behind a buffering proxy (deploy/nginx.conf): nginx takes slow uploads and
slow readers, and serves audio itself by X-Accel-Redirect.
Socket.IO runs beside this under uvicorn (config.asgi), sharing Redis (REDIS_URL).

The worker is gunicorn's sync worker but for its close (config/gunicorn_worker.py): it does
not wait for the client to hang up after an answer whose request it read whole, which took a
third of a worker's time under load (docs/PERFORMANCE.md).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Two per core and one more, gunicorn's own advice for sync workers; WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "config.gunicorn_worker.SyncWorker"
# A request that takes longer than this is killed and its worker replaced (sync workers only:
# under gthread the timeout watches the worker's main loop, not its requests).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Sync workers ignore this: each closes its connection after one response, so nginx opens a
# new one (on loopback) per request. Kept for `-k gthread`, which holds connections from
# nginx's keepalive pool this long between requests. Sync stays the default because gthread
# and granian, which keep connections, were no faster at a million songs, had worse p99s, and
# lose the per-request timeout above (docs/PERFORMANCE.md, "Serving options (issue 22)").
keepalive = 5
# Workers are recycled now and then, so no slow leak grows without bound.
max_requests = 10_000
max_requests_jitter = 1_000
# The app is imported once, before the workers fork: a recycled worker is back at once
# instead of spending a second importing Django while its share of requests waits (that
# second showed as p99 spikes of about a second in the benchmark).
preload_app = True
# No limit of gunicorn's own on the request line (0; gunicorn's largest number is 8190, and the
# longest URL the API's schema allows is about 17,000 bytes: GET /api/songs/ with search,
# artist and cursor at their longest in 4-byte characters, percent-encoded). gunicorn's 414
# is an HTML page; nginx in front (deploy/nginx.conf, large_client_header_buffers 20k) is the
# limit clients meet, and its 414 is JSON.
limit_request_line = 0
# A header line as long as nginx lets through (large_client_header_buffers 20k), for the same
# reason: gunicorn's default (8190) would answer a longer one with an HTML 400.
limit_request_field_size = 20 * 1024
# The proxy's address: only it may set X-Forwarded-For and X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 25.1+ opens a runtime control socket at one path per user, which a second instance
# on the host (another site, a test server) would take over; nothing here uses it.
control_socket_disable = True
