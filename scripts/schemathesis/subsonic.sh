#!/usr/bin/env bash
# Bounded Schemathesis run of the OpenSubsonic API (/rest/) against the specification's own
# OpenAPI description, for the endpoints this server implements (subsonic.registry.ENDPOINTS,
# read when the run starts: GET and form POST of each), three times: anonymous, as a listener
# and as an admin, each signed in with an app password's API key. Every check runs; the three
# that read refusals from the HTTP status are replaced by Subsonic-aware ones (an error is an
# envelope with HTTP 200: subsonic_hooks.py, docs/SUBSONIC.md). Exits non-zero on any failure.
#
#   scripts/schemathesis/subsonic.sh
#
# Environment (all optional):
#   DATABASE_URL                 database to migrate and fill (CI: PostgreSQL). Unset: a
#                                throwaway SQLite file in a temporary folder.
#   SUBSONIC_OPENAPI             the bundled specification (default: the committed
#                                subsonic/openapi/opensubsonic.bundled.json)
#   SUBSONIC_ENDPOINTS           only these endpoints, comma-separated (to replay a finding;
#                                default: every implemented one)
#   SCHEMATHESIS_MAX_EXAMPLES    test cases per operation and phase (default 20; the
#                                anonymous run, all refusals, a quarter of it and no
#                                coverage phase)
#   SCHEMATHESIS_SEED            seed, so a run can be replayed (default 20250101)
#   SCHEMATHESIS_WORKERS         concurrent Schemathesis workers (default 1)
#   ARTIFACTS_DIR                keep the JUnit reports, the counts and the server log here
#   VENV_BIN                     folder with python, uvicorn, schemathesis (default .venv/bin)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/schemathesis"
VENV_BIN="${VENV_BIN:-$ROOT/.venv/bin}"
PYTHON="$VENV_BIN/python"
SPEC="${SUBSONIC_OPENAPI:-$ROOT/subsonic/openapi/opensubsonic.bundled.json}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
ANONYMOUS_EXAMPLES=$(((MAX_EXAMPLES + 3) / 4))
SEED="${SCHEMATHESIS_SEED:-20250101}"
WORKERS="${SCHEMATHESIS_WORKERS:-1}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/schemathesis-subsonic.XXXXXX")"
OUT="${ARTIFACTS_DIR:-$WORK/artifacts}"
mkdir -p "$OUT"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
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
cd "$ROOT"

# --- The specification --------------------------------------------------------------------
if [[ ! -f "$SPEC" ]]; then
    echo "No bundled OpenSubsonic specification at $SPEC: run" >&2
    echo "  $PYTHON scripts/schemathesis/bundle_opensubsonic.py" >&2
    exit 1
fi
echo "Specification: $SPEC"
# Where the split specification is beside the project, say whether the bundle is its current
# one (subsonic/tests/test_openapi_bundle.py fails on a stale bundle; this run goes on).
bundle_rc=0
"$PYTHON" "$HERE/bundle_opensubsonic.py" --check --output "$SPEC" >/dev/null 2>&1 || bundle_rc=$?
case "$bundle_rc" in
    0) echo "  (the bundle of the specification beside the project)" ;;
    3) echo "  (the specification is not beside the project: the committed bundle is used as it is)" ;;
    *) echo "  WARNING: not the bundle of the specification beside the project; rebundle it" >&2 ;;
esac

# --- Settings (as run.sh: see there) ------------------------------------------------------
export DJANGO_SETTINGS_MODULE=schemathesis_settings
export PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
export DEBUG=False
export SECRET_KEY="$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')"
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=False
export DATABASE_URL="${DATABASE_URL:-sqlite:///$WORK/db.sqlite3}"
export MEDIA_ROOT="$WORK/media"
export MEDIA_ACCEL_REDIRECT=""
export REDIS_URL="${REDIS_URL:-}"
export LOG_LEVEL=WARNING
# The anonymous run sends fuzzed `u` and `p`: each counts against the sign-in lockout of the
# one client address, which would soon refuse everything with error 40. The lockout itself
# is covered by subsonic/tests/test_auth.py.
export LOGIN_MAX_FAILURES_PER_EMAIL=1000000
export LOGIN_MAX_FAILURES_PER_ADDRESS=1000000

suffix="$("$PYTHON" -c 'import secrets; print(secrets.token_hex(4))')"
LISTENER_EMAIL="listener-$suffix@example.com"
ADMIN_EMAIL_ADDRESS="admin-$suffix@example.com"
export ADMIN_EMAIL="$ADMIN_EMAIL_ADDRESS"

# --- The operations: what the registry holds now -----------------------------------------
# One line each: `names <regex alternation>` and `public <paths, comma-separated>`.
"$PYTHON" - "$SPEC" >"$WORK/operations" <<'PYTHON'
import json, os, re, sys
import django

django.setup()
import subsonic.endpoints  # noqa: E402,F401 (registers the handlers)
from subsonic.registry import ENDPOINTS  # noqa: E402

paths = json.load(open(sys.argv[1], encoding="utf-8"))["paths"]
missing = sorted(name for name in ENDPOINTS if f"/rest/{name}" not in paths)
if missing:
    sys.exit(f"Implemented but not in the specification: {', '.join(missing)}")
names = sorted(ENDPOINTS)
only = {name for name in os.environ.get("SUBSONIC_ENDPOINTS", "").split(",") if name}
if only - set(ENDPOINTS):
    sys.exit(f"Not implemented: {', '.join(sorted(only - set(ENDPOINTS)))}")
names = sorted(only) if only else names
print("names", "|".join(re.escape(name) for name in names))
print("public", ",".join(f"/rest/{name}" for name in names if ENDPOINTS[name].public))
print("count", len(names))
PYTHON
NAMES="$(sed -n 's/^names //p' "$WORK/operations")"
export SUBSONIC_PUBLIC_PATHS; SUBSONIC_PUBLIC_PATHS="$(sed -n 's/^public //p' "$WORK/operations")"
echo "Endpoints: $(sed -n 's/^count //p' "$WORK/operations") implemented (${NAMES//\\/}), GET and POST each"

# --- Database and data --------------------------------------------------------------------
echo "Database: ${DATABASE_URL%%:*}; preparing it"
"$PYTHON" manage.py migrate --noinput --verbosity 0
"$PYTHON" manage.py seed_demo_catalog >/dev/null
"$PYTHON" manage.py seed_demo_playlists >/dev/null
# Each account with an app password (its secret is the API key) and playlists of its own: one
# kept, four for the delete* operations to delete (two by GET, two by POST). Then the ids the hooks give parameters
# named like ids (subsonic_hooks.py rule 4): two songs, an album, an artist, a public playlist
# of the demo listener's and the account's own. Written to a file, never echoed.
ST_LISTENER="$LISTENER_EMAIL" ST_ADMIN="$ADMIN_EMAIL_ADDRESS" ST_DATA="$WORK/data" \
    "$PYTHON" manage.py shell -c '
import os, secrets
from catalog.models import Album, Artist, Song
from library import services as library
from library.models import Playlist
from subsonic import ids
from users import services
from users.models import User

songs = list(Song.objects.order_by("pk")[:2])
catalog = [ids.song_id(song.pk) for song in songs]
catalog += [ids.album_id(Album.objects.order_by("pk").first().pk)]
catalog += [ids.artist_id(Artist.objects.order_by("pk").first().pk)]
public = Playlist.objects.filter(is_public=True).order_by("pk").first()
catalog += [ids.playlist_id(public.pk)]
lines = []
for role, email in (("listener", os.environ["ST_LISTENER"]), ("admin", os.environ["ST_ADMIN"])):
    user = User.objects.create_user(
        email=email, password=secrets.token_urlsafe(18), full_name=f"Schemathesis {role}"
    )
    key = services.app_password_create(user=user, name="schemathesis").secret
    own = [
        library.playlist_create(owner=user, name=f"{role} {n}", song_ids=[songs[0].pk])
        for n in range(5)
    ]
    own = [ids.playlist_id(playlist.pk) for playlist in own]
    lines += [f"{role}_key {key}", f"{role}_ids " + ",".join([*catalog, own[0]])]
    lines += [f"{role}_delete_ids_get " + ",".join([*catalog, *own[1:3]])]
    lines += [f"{role}_delete_ids_post " + ",".join([*catalog, *own[3:5]])]
with open(os.environ["ST_DATA"], "w") as file:
    file.writelines(line + "\n" for line in lines)
' >/dev/null
datum() { sed -n "s/^$1 //p" "$WORK/data"; }

# --- Server -------------------------------------------------------------------------------
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
SERVER_LOG="$OUT/subsonic-server.log"
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
export SUBSONIC_BASE_URL="$BASE"

# --- Runs ---------------------------------------------------------------------------------
declare -a SUMMARIES=()
failed=0

run_schemathesis() {
    local name="$1" examples="$2"
    shift 2
    local log="$OUT/subsonic-$name.log" run_started=$SECONDS rc=0
    echo
    echo "=== Schemathesis, Subsonic: $name ==="
    # --exclude-checks: the three checks that read a refusal from the HTTP status alone, and
    # content_type_conformance; subsonic_hooks.py's subsonic_* checks replace them, reading
    # the envelope (Subsonic refuses with HTTP 200 and `status: failed`, never a 4xx), and
    # taking the files as what they are (docs/SUBSONIC.md).
    (
        cd "$WORK"
        SCHEMATHESIS_HOOKS="$HERE/subsonic_hooks.py" \
            SUBSONIC_CASES_FILE="$OUT/subsonic-$name.cases.json" \
            "$VENV_BIN/schemathesis" \
            --config-file "$HERE/subsonic.toml" \
            run "$SPEC" \
            --url "$BASE" \
            --include-path-regex "^/rest/($NAMES)\$" \
            --checks all \
            --exclude-checks ignored_auth,negative_data_rejection,positive_data_acceptance,content_type_conformance \
            --max-examples "$examples" \
            --seed "$SEED" \
            --workers "$WORKERS" \
            --no-color \
            --report junit --report-junit-path "$OUT/subsonic-$name.junit.xml" \
            "$@"
    ) 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
    local result
    result="$(grep -E '^=+ .* in [0-9.]+s =+$' "$log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
    [[ -n "$result" ]] || result="no summary (exit code $rc)"
    SUMMARIES+=("$(printf '%-9s exit %s: %s (%ss)' "$name" "$rc" "$result" $((SECONDS - run_started)))")
    if [[ "$rc" -ne 0 ]]; then
        failed=1
    fi
}

# Anonymous: every answer but the public endpoints' is a refusal, so a few generated cases
# (no coverage phase) are enough.
SUBSONIC_API_KEY="" SUBSONIC_USERNAMES="" SUBSONIC_IDS="" \
    SUBSONIC_DELETE_IDS_GET="" SUBSONIC_DELETE_IDS_POST="" \
    run_schemathesis anonymous "$ANONYMOUS_EXAMPLES" --phases examples,fuzzing
for role in listener admin; do
    other="$ADMIN_EMAIL_ADDRESS"
    own="$LISTENER_EMAIL"
    if [[ "$role" == admin ]]; then
        other="$LISTENER_EMAIL"
        own="$ADMIN_EMAIL_ADDRESS"
    fi
    SUBSONIC_API_KEY="$(datum "${role}_key")" SUBSONIC_USERNAMES="$own,$other" \
        SUBSONIC_IDS="$(datum "${role}_ids")" \
        SUBSONIC_DELETE_IDS_GET="$(datum "${role}_delete_ids_get")" \
        SUBSONIC_DELETE_IDS_POST="$(datum "${role}_delete_ids_post")" \
        run_schemathesis "$role" "$MAX_EXAMPLES"
done

if [[ "$failed" -ne 0 && -z "${ARTIFACTS_DIR:-}" ]] && grep -q '^Traceback' "$SERVER_LOG"; then
    echo
    echo "=== Server tracebacks (the end of them; the log is deleted on exit) ==="
    grep -A 40 '^Traceback' "$SERVER_LOG" | tail -n 120
fi
echo
echo "=== Test cases per operation: positive + negative data (succeeded); seed $SEED ==="
never_rc=0
"$PYTHON" - "$OUT" anonymous listener admin <<'PYTHON' || never_rc=$?
import json, sys
from pathlib import Path

folder, roles = Path(sys.argv[1]), sys.argv[2:]
counts = {}
for role in roles:
    file = folder / f"subsonic-{role}.cases.json"
    counts[role] = json.loads(file.read_text()) if file.is_file() else {}
labels = sorted({label for per_role in counts.values() for label in per_role})
width = max([len(label) for label in labels] + [9])
print(f"{'operation':<{width}}  " + "  ".join(f"{role:>18}" for role in roles))
for label in labels:
    cells = []
    for role in roles:
        n = counts[role].get(label)
        cell = f"{n['positive']} + {n['negative']} ({n['succeeded']})" if n else "-"
        cells.append(f"{cell:>18}")
    print(f"{label:<{width}}  " + "  ".join(cells))
totals = [sum(n["positive"] + n["negative"] for n in counts[role].values()) for role in roles]
print(f"{'total':<{width}}  " + "  ".join(f"{total:>18}" for total in totals))
# Each operation must have succeeded at least once signed in, else its success answer was
# never checked (a run that never signs in, or never names anything that exists).
signed_in = [role for role in roles if role != "anonymous"]
never = [
    label
    for label in labels
    if not any(counts[role].get(label, {}).get("succeeded") for role in signed_in)
]
if never:
    print("\nNever succeeded, signed in: " + ", ".join(never), file=sys.stderr)
    sys.exit(1)
PYTHON
if [[ "$never_rc" -ne 0 ]]; then
    failed=1
    SUMMARIES+=("an operation never succeeded signed in (above)")
fi
echo
echo "=== Summary (seed $SEED, $MAX_EXAMPLES examples, $((SECONDS - started_at))s in all) ==="
printf '%s\n' "${SUMMARIES[@]}"
if [[ -n "${ARTIFACTS_DIR:-}" ]]; then
    echo "Reports, counts, Schemathesis output and server log: $ARTIFACTS_DIR"
fi
exit "$failed"
