#!/usr/bin/env bash
# The project alone under wrk, endpoint by endpoint, on a loaded database: a Markdown table of
# requests per second and 99th-percentile latency. bench/sizes.sh calls it (or, when present,
# ../shared/bench/run.sh, which adds the seed's stack and a floor beside the project).
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench bench/run.sh
#
# Run from the project's root with .venv installed and wrk on the PATH (apt install wrk).
# Env: PROJECT_CMD  how the project serves on BENCH_PORT (default: production's gunicorn,
#                   deploy/gunicorn.conf.py, 2 workers)
#      PATHS        space-separated paths (default: the hot reads below)
#      DURATION (s, default 5)  CONNS (default 16)  BENCH_PORT (default 8801)
#      SONG_ID (default 424242)  ALBUM_ID (default 777)  BENCH_OUT (logs; default a temp folder)
set -u
: "${DATABASE_URL:?set DATABASE_URL to the loaded benchmark database}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt install wrk)" >&2; exit 1; }
PORT=${BENCH_PORT:-8801}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
SONG_ID=${SONG_ID:-424242}
ALBUM_ID=${ALBUM_ID:-777}
OUT=${BENCH_OUT:-$(mktemp -d)}
mkdir -p "$OUT"
PROJECT_CMD=${PROJECT_CMD:-$PWD/.venv/bin/gunicorn config.wsgi:application -c deploy/gunicorn.conf.py -w 2 -b 127.0.0.1:$PORT}
# Production settings; the secret is the one ../shared/bench/run.sh serves with, so cursors
# signed for one run verify in the other.
export DEBUG=False SECURE_SSL_REDIRECT=False ALLOWED_HOSTS=127.0.0.1 REDIS_URL= \
  SECRET_KEY=bench-secret-key-bench-secret-key-bench-0123456789

if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; then
  echo "port $PORT is already taken (set BENCH_PORT)" >&2; exit 1
fi
# The new session's leader writes its own id: that is the process group to end at exit.
setsid bash -c "echo \$\$ >'$OUT/project.pid'; exec $PROJECT_CMD" >"$OUT/project.log" 2>&1 &
for _ in $(seq 1 20); do [ -s "$OUT/project.pid" ] && break; sleep 0.1; done
trap 'kill -- -"$(cat "$OUT/project.pid")" 2>/dev/null' EXIT
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/health/" && break; sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/health/" || {
  echo "the project did not answer on port $PORT (log: $OUT/project.log)" >&2; exit 1; }

default_paths="/api/songs/ /api/songs/?offset=500000 /api/songs/$SONG_ID/ /api/songs/featured/ /api/songs/trending/ /api/albums/$ALBUM_ID/ /api/songs/?search=Song%2099999"
read -r -a paths <<<"${PATHS:-$default_paths}"
echo "| endpoint | project req/s (p99 ms) |"
echo "| --- | --- |"
for path in "${paths[@]}"; do
  line=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency "http://127.0.0.1:$PORT$path" 2>&1)
  rps=$(awk '/Requests\/sec/ {print int($2)}' <<<"$line")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; print int(v)}' <<<"$line")
  bad=$(awk '/Non-2xx/ {print "non-2xx:" $NF} /Socket errors/ {gsub(",", ""); print "timeouts:" $NF}' <<<"$line" | paste -sd, -)
  echo "| $path | ${rps:-0} (${p99:-?})${bad:+ $bad} |"
done
echo "logs: $OUT" >&2
