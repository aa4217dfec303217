#!/usr/bin/env bash
# Bounded Schemathesis run against the served OpenAPI schema, three times: anonymous, as a
# listener and as an admin, with every check. Exits non-zero if any run finds a failure.
#
#   scripts/schemathesis/run.sh
#
# Environment (all optional):
#   DATABASE_URL                 database to migrate and fill (CI: PostgreSQL). Unset: a
#                                throwaway SQLite file in a temporary folder.
#   SCHEMATHESIS_MAX_EXAMPLES    test cases per operation and phase (default 30)
#   SCHEMATHESIS_SEED            seed, so a run can be replayed (default 20250101)
#   SCHEMATHESIS_WORKERS         concurrent Schemathesis workers (default 1: with the seed,
#                                the same requests in the same order on every run)
#   ARTIFACTS_DIR                keep the JUnit reports and the server log here (CI upload)
#   VENV_BIN                     folder with python, uvicorn, schemathesis (default .venv/bin)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/schemathesis"
VENV_BIN="${VENV_BIN:-$ROOT/.venv/bin}"
PYTHON="$VENV_BIN/python"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-30}"
SEED="${SCHEMATHESIS_SEED:-20250101}"
WORKERS="${SCHEMATHESIS_WORKERS:-1}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/schemathesis.XXXXXX")"
OUT="${ARTIFACTS_DIR:-$WORK/artifacts}"
mkdir -p "$OUT"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        # A graceful stop, or a hard one after 10 s.
        for _ in $(seq 1 20); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.5
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

started_at=$SECONDS

# --- Settings ---------------------------------------------------------------------------
# config.settings plus a fast password hasher (see schemathesis_settings.py).
export DJANGO_SETTINGS_MODULE=schemathesis_settings
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
# Every variable config/settings.py reads that matters here is set, so a developer's .env
# (which only fills what is unset) cannot change the run.
# Production-like: DEBUG off (no technical 500 pages), plain HTTP on the loopback.
export DEBUG=False
export SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=False
export DATABASE_URL="${DATABASE_URL:-sqlite:///$WORK/db.sqlite3}"
export MEDIA_ROOT="$WORK/media"
export MEDIA_ACCEL_REDIRECT=""
export REDIS_URL="${REDIS_URL:-}"
export LOG_LEVEL=WARNING
# Every fuzzed sign-in with a wrong password counts against the one client address
# (127.0.0.1) and maybe an email; at the default limits (5 per email, 20 per address) the
# address is locked within seconds, after which the test users cannot sign in for the next
# run and the login operation answers nothing but 429. The lock itself is covered by tests.
export LOGIN_MAX_FAILURES_PER_EMAIL=1000000
export LOGIN_MAX_FAILURES_PER_ADDRESS=1000000
# Likewise the other abuse limits: a few hundred fuzzed messages and sign-ups per run would
# otherwise turn those operations into 429s after the first 30 messages / 10 sign-ups.
export MESSAGES_PER_MINUTE=1000000
export REGISTRATIONS_PER_ADDRESS_PER_HOUR=1000000
# Never the real ListenBrainz: a closed local port, so linking answers its documented 503 at once.
export LISTENBRAINZ_API_URL=http://127.0.0.1:9
# A run must not outlive the access token it was given.
export JWT_ACCESS_MINUTES=60

suffix="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(4))')"
LISTENER_EMAIL="listener-$suffix@example.com"
LISTENER_PASSWORD="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))')"
ADMIN_EMAIL_ADDRESS="admin-$suffix@example.com"
ADMIN_PASSWORD="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(18))')"
export ADMIN_EMAIL="$ADMIN_EMAIL_ADDRESS"

# --- Database and data ------------------------------------------------------------------
cd "$ROOT"
echo "Database: ${DATABASE_URL%%:*}; preparing it"
"$PYTHON" manage.py migrate --noinput --verbosity 0
"$PYTHON" manage.py seed_demo_catalog >/dev/null
# Two public playlists: the anonymous run reads them, not only 404s.
"$PYTHON" manage.py seed_demo_playlists >/dev/null
DJANGO_SUPERUSER_EMAIL="$ADMIN_EMAIL_ADDRESS" DJANGO_SUPERUSER_PASSWORD="$ADMIN_PASSWORD" \
    DJANGO_SUPERUSER_FULL_NAME="Schemathesis Admin" \
    "$PYTHON" manage.py createsuperuser --noinput >/dev/null
ST_EMAIL="$LISTENER_EMAIL" ST_PASSWORD="$LISTENER_PASSWORD" "$PYTHON" manage.py shell -c '
import os
from users.models import User
User.objects.create_user(
    email=os.environ["ST_EMAIL"], password=os.environ["ST_PASSWORD"], full_name="Schemathesis Listener"
)
'

# --- Server -----------------------------------------------------------------------------
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
SERVER_LOG="$OUT/server.log"
"$VENV_BIN/uvicorn" config.asgi:application --host 127.0.0.1 --port "$PORT" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
    if curl -fsS -o /dev/null "$BASE/api/health/" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "The server stopped while starting:" >&2
        cat "$SERVER_LOG" >&2
        exit 1
    fi
    sleep 0.5
done
curl -fsS -o /dev/null "$BASE/api/health/" || { echo "No answer from $BASE/api/health/" >&2; exit 1; }
echo "Server: $BASE (log: $SERVER_LOG)"

access_token() {
    local body
    body="$("$PYTHON" -c 'import json, sys; print(json.dumps({"email": sys.argv[1], "password": sys.argv[2]}))' "$1" "$2")"
    curl -fsS -X POST "$BASE/api/auth/login/" -H "Content-Type: application/json" -d "$body" |
        "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["access"])'
}

# The id of the account a token signs in (hooks.py rule 5).
caller_id() {
    curl -fsS "$BASE/api/auth/user/" -H "Authorization: Bearer $1" |
        "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}

# --- Runs -------------------------------------------------------------------------------
declare -a SUMMARIES=()
failed=0

run_schemathesis() {
    local name="$1"
    shift
    local log="$OUT/$name.log" run_started=$SECONDS rc=0
    echo
    echo "=== Schemathesis: $name ==="
    # From the temporary folder: nothing Schemathesis writes lands in the repository.
    (
        cd "$WORK"
        SCHEMATHESIS_HOOKS="$HERE/hooks.py" "$VENV_BIN/schemathesis" \
            --config-file "$HERE/schemathesis.toml" \
            run "$BASE/api/openapi.json" \
            --checks all \
            --max-examples "$MAX_EXAMPLES" \
            --seed "$SEED" \
            --workers "$WORKERS" \
            --no-color \
            --report junit --report-junit-path "$OUT/$name.junit.xml" \
            "$@"
    ) 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
    # Schemathesis's last line reads like "=== 3 failures, 40 passed in 51.2s ===".
    local result
    result="$(grep -E '^=+ .* in [0-9.]+s =+$' "$log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
    [[ -n "$result" ]] || result="no summary (exit code $rc)"
    SUMMARIES+=("$(printf '%-9s exit %s: %s (%ss)' "$name" "$rc" "$result" $((SECONDS - run_started)))")
    if [[ "$rc" -ne 0 ]]; then
        failed=1
    fi
}

# Anonymous first and admin last: the admin may delete the seeded songs and albums. Each
# token is fetched just before its run (a failed sign-in stops the script here).
run_schemathesis anonymous
token="$(access_token "$LISTENER_EMAIL" "$LISTENER_PASSWORD")"
export SCHEMATHESIS_CALLER_ID; SCHEMATHESIS_CALLER_ID="$(caller_id "$token")"
run_schemathesis listener -H "Authorization: Bearer $token"
token="$(access_token "$ADMIN_EMAIL_ADDRESS" "$ADMIN_PASSWORD")"
SCHEMATHESIS_CALLER_ID="$(caller_id "$token")"
run_schemathesis admin -H "Authorization: Bearer $token"

if [[ "$failed" -ne 0 && -z "${ARTIFACTS_DIR:-}" ]] && grep -q '^Traceback' "$SERVER_LOG"; then
    echo
    echo "=== Server tracebacks (the end of them; the log is deleted on exit) ==="
    grep -A 40 '^Traceback' "$SERVER_LOG" | tail -n 120
fi
echo
echo "=== Summary (seed $SEED, $MAX_EXAMPLES examples, $((SECONDS - started_at))s in all) ==="
printf '%s\n' "${SUMMARIES[@]}"
if [[ -n "${ARTIFACTS_DIR:-}" ]]; then
    echo "Reports, Schemathesis output and server log: $ARTIFACTS_DIR"
fi
exit "$failed"
