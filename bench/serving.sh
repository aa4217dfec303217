#!/usr/bin/env bash
# The serving options side by side on one loaded database, in one run: gunicorn sync workers
# (production's deploy/gunicorn.conf.py), gunicorn gthread, granian's WSGI interface and
# uvicorn (config.asgi), each with 2 worker processes; wrk loads each hot read on each option
# in turn. Prints a Markdown table of requests per second and 99th-percentile latency, then
# whether each option kept a connection alive and the memory of its processes after the run.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_1000000 bench/serving.sh
#
# The database must be migrated and filled (bench/sizes.sh 1000000 leaves bench_1000000 so).
# Run from the project's root with .venv installed and wrk on the PATH (apt install wrk).
# granian is not a project dependency: it is installed once, with the project's own pip and
# interpreter, into GRANIAN_LIB (default $TMPDIR/granian-lib) and put on PYTHONPATH for its
# column only. When ../shared/bench/floor.py is there (BENCH names another folder), a floor
# column (Starlette and psycopg under uvicorn, its venv from that folder's run.sh) is added,
# and with peer_drf.py a peer column: the seed's stack (Django REST framework, gunicorn sync).
# OPTIONS may also name stocksync (gunicorn's own sync worker, which waits for each client to
# hang up) and django (bench/django_floor.py: the floor's reads as bare Django views).
# Env: DURATION (s per cell, default 8)  CONNS (default 16)  THREADS (gthread and granian
#      threads per worker, default 4)  OPTIONS (columns, default "sync gthread granian uvicorn"
#      plus floor)  BENCH_OUT (logs; default a temporary folder)  FIRST_PORT (default 8811)
set -u
: "${DATABASE_URL:?set DATABASE_URL to the loaded benchmark database}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt install wrk)" >&2; exit 1; }
DURATION=${DURATION:-8}
CONNS=${CONNS:-16}
THREADS=${THREADS:-4}
FIRST_PORT=${FIRST_PORT:-8811}
OUT=${BENCH_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
GRANIAN_LIB=${GRANIAN_LIB:-${TMPDIR:-/tmp}/granian-lib}
BENCH=${BENCH:-../shared/bench}  # an optional floor, never required
FLOOR_VENV=${BENCH_VENV:-${TMPDIR:-/tmp}/bench-venv}  # the one $BENCH/run.sh makes
# Production settings, and run.sh's secret, so the cursor below verifies.
export DEBUG=False SECURE_SSL_REDIRECT=False ALLOWED_HOSTS=127.0.0.1 REDIS_URL= \
  SECRET_KEY=bench-secret-key-bench-secret-key-bench-0123456789

if ! PYTHONPATH=$GRANIAN_LIB .venv/bin/python -c "import granian" 2>/dev/null; then
  echo "installing granian into $GRANIAN_LIB" >&2
  .venv/bin/pip install -q --target "$GRANIAN_LIB" "granian>=2.8,<2.9" >&2 || exit 1
fi

# The song and album at 42 % of their tables and the songs list's cursor after its middle
# item, as bench/sizes.sh picks them.
read -r SONG_ID ALBUM_ID CURSOR < <(.venv/bin/python manage.py shell --verbosity 0 -c "
from catalog.models import Album, Song
from django.test import RequestFactory
from core.pagination import Page
order = ['-created_at', '-id']
songs = Song.objects.count()
song = Song.objects.order_by('id')[songs * 42 // 100]
album = Album.objects.order_by('id')[Album.objects.count() * 42 // 100]
middle = Song.objects.order_by(*order)[songs // 2 - 1]
print(song.pk, album.pk, Page._cursor(order, middle, RequestFactory().get('/api/songs/')))")
[ -n "${CURSOR:-}" ] || { echo "could not read ids from $DATABASE_URL" >&2; exit 1; }

gunicorn="$PWD/.venv/bin/gunicorn config.wsgi:application -c deploy/gunicorn.conf.py -w 2"
declare -A command=(
  # Production's worker (config/gunicorn_worker.py): gunicorn's sync worker that does not
  # wait for the client to hang up; stocksync is gunicorn's own.
  [sync]="$gunicorn"
  [stocksync]="$gunicorn -k sync"
  # Django alone (bench/django_floor.py): the floor's reads as bare Django views, the same
  # server and worker as sync; only song, album and featured.
  [django]="$PWD/.venv/bin/gunicorn bench.django_floor:application -c deploy/gunicorn.conf.py -w 2"
  [gthread]="$gunicorn -k gthread --threads $THREADS"
  # As many threads as gthread's: granian's default for WSGI (backpressure / 2, 256 here) is
  # far past the 10 connections of each process's database pool.
  [granian]="env PYTHONPATH=$GRANIAN_LIB $PWD/.venv/bin/python -m granian --interface wsgi --workers 2 --blocking-threads $THREADS --no-access-log --log-level warning config.wsgi:application"
  [uvicorn]="$PWD/.venv/bin/uvicorn config.asgi:application --workers 2 --log-level warning --no-access-log"
  [floor]="$FLOOR_VENV/bin/uvicorn floor:app --workers 2 --log-level warning --no-access-log"
  # The seed's stack (Django REST framework under gunicorn's sync workers), the ASGI path's bar.
  [peer]="$FLOOR_VENV/bin/gunicorn -w 2 peer_drf:application"
)
default_options="sync gthread granian uvicorn"
[ -f "$BENCH/floor.py" ] && [ -x "$FLOOR_VENV/bin/uvicorn" ] && default_options+=" floor"
[ -f "$BENCH/peer_drf.py" ] && [ -x "$FLOOR_VENV/bin/gunicorn" ] && default_options+=" peer"
read -r -a options <<<"${OPTIONS:-$default_options}"

declare -A port leader
cleanup() { for o in "${!leader[@]}"; do kill -- -"${leader[$o]}" 2>/dev/null; done; }
trap cleanup EXIT
next_port=$FIRST_PORT
started=()
for o in "${options[@]}"; do
  p=$next_port; next_port=$((next_port + 1))
  if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$p/"; then echo "port $p is already taken" >&2; exit 1; fi
  case $o in
    sync | stocksync | gthread | django | peer) cmd="${command[$o]} -b 127.0.0.1:$p" ;;
    *) cmd="${command[$o]} --host 127.0.0.1 --port $p" ;;
  esac
  dir=$PWD; [ "$o" = floor ] || [ "$o" = peer ] && dir=$BENCH
  # The new session's leader writes its own id: that is the process group to end at exit.
  (cd "$dir" && setsid bash -c "echo \$\$ >'$OUT/$o.pid'; exec $cmd" >"$OUT/$o.log" 2>&1 &)
  for _ in $(seq 1 20); do [ -s "$OUT/$o.pid" ] && break; sleep 0.1; done
  leader[$o]=$(cat "$OUT/$o.pid")
  for _ in $(seq 1 120); do curl -fs -o /dev/null "http://127.0.0.1:$p/api/songs/$SONG_ID/" && break; sleep 0.5; done
  if curl -fs -o /dev/null "http://127.0.0.1:$p/api/songs/$SONG_ID/"; then
    port[$o]=$p; started+=("$o")
  else
    echo "$o did not answer on port $p (log: $OUT/$o.log)" >&2
  fi
done
[ ${#started[@]} -gt 0 ] || exit 1

paths=("/api/songs/$SONG_ID/" "/api/albums/$ALBUM_ID/" "/api/songs/" "/api/songs/?cursor=$CURSOR"
  "/api/songs/featured/" "/api/songs/trending/")
idle() { # let PostgreSQL finish what the previous cell left behind
  for _ in $(seq 1 60); do
    busy=$(psql "$DATABASE_URL" -Atc "select count(*) from pg_stat_activity where state = 'active' and pid <> pg_backend_pid() and datname = current_database()" 2>/dev/null)
    [ "${busy:-0}" = 0 ] && break; sleep 1
  done
}
declare -A cell
row=0
for path in "${paths[@]}"; do
  # Each row starts with the next option, so no option always follows the same one.
  n=${#started[@]}
  for i in $(seq 0 $((n - 1))); do
    o=${started[$(((i + row) % n))]}
    if [[ $o =~ ^(floor|peer)$ ]] && [[ $path == *cursor=* ]]; then cell[$o,$path]="—"; continue; fi  # no cursors there
    if [ "$o" = django ] && [[ $path == /api/songs/ || $path == *cursor=* || $path == *trending* ]]; then cell[$o,$path]="—"; continue; fi
    # Unrecorded: the first requests fill per-process caches (trending, counts) and the pool.
    wrk -t2 -c"$CONNS" -d1s "http://127.0.0.1:${port[$o]}$path" >/dev/null 2>&1
    idle
    line=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency "http://127.0.0.1:${port[$o]}$path" 2>&1)
    rps=$(awk '/Requests\/sec/ {print int($2)}' <<<"$line")
    p99=$(awk '$1=="99%" {v=$2; if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print int(v)}' <<<"$line")
    bad=$(awk '/Non-2xx/ {print "non-2xx:" $NF} /Socket errors/ {gsub(",", ""); print "errors:" $0}' <<<"$line" | paste -sd, -)
    cell[$o,$path]="${rps:-0} (${p99:-?})${bad:+ $bad}"
  done
  row=$((row + 1))
done

printf '| endpoint |'; for o in "${started[@]}"; do printf ' %s req/s (p99 ms) |' "$o"; done; echo
printf '| --- |'; for _ in "${started[@]}"; do printf ' --- |'; done; echo
for path in "${paths[@]}"; do
  printf '| %s |' "$(sed 's|?cursor=.*|?cursor=<middle item>|' <<<"$path")"
  for o in "${started[@]}"; do printf ' %s |' "${cell[$o,$path]}"; done; echo
done
# Two requests on one curl: "Re-using" means the server left the first connection open.
printf '| keeps the connection alive |'
for o in "${started[@]}"; do
  url="http://127.0.0.1:${port[$o]}/api/songs/$SONG_ID/"
  if curl -sv -o /dev/null -o /dev/null "$url" "$url" 2>&1 | grep -q 'Re-using existing connection'; then
    printf ' yes |'; else printf ' no |'; fi
done
echo
printf '| memory after the run (MiB, all processes) |'
for o in "${started[@]}"; do
  printf ' %s |' "$(ps -o rss= -s "${leader[$o]}" | awk '{s += $1} END {print int(s / 1024)}')"
done
echo
echo "logs: $OUT; $DURATION s per cell, $CONNS connections, 2 workers each" >&2
