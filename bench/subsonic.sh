#!/usr/bin/env bash
# The Subsonic API beside its REST equivalent, pair by pair, on one loaded database under
# production's gunicorn: requests per second, p99, and Subsonic's share of REST's rate.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_1000000 bench/subsonic.sh
#
# The database is one bench/sizes.sh filled (seed_scale). A listener with an app password is
# made in it (bench-subsonic@example.com); Subsonic requests sign in with its API key, REST
# reads are anonymous (as the REST catalog is). Same env as bench/run.sh (DURATION, CONNS,
# BENCH_PORT, PROJECT_CMD); wrk on the PATH.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the loaded benchmark database}"
command -v wrk >/dev/null || { echo "wrk is not installed (apt install wrk)" >&2; exit 1; }
PORT=${BENCH_PORT:-8801}
DURATION=${DURATION:-5}
CONNS=${CONNS:-16}
OUT=${BENCH_OUT:-$(mktemp -d)}
PROJECT_CMD=${PROJECT_CMD:-$PWD/.venv/bin/gunicorn config.wsgi:application -c deploy/gunicorn.conf.py -w 2 -b 127.0.0.1:$PORT}
export DEBUG=False SECURE_SSL_REDIRECT=False ALLOWED_HOSTS=127.0.0.1 REDIS_URL= \
  SECRET_KEY=bench-secret-key-bench-secret-key-bench-0123456789

# An album at 42 % of the table, and a fresh API key for the bench listener.
read -r album_id key < <(.venv/bin/python manage.py shell --verbosity 0 -c "
from catalog.models import Album
from users.models import AppPassword, User
from users.services import app_password_create
user, _ = User.objects.get_or_create(email='bench-subsonic@example.com', defaults={'full_name': 'Bench'})
AppPassword.objects.filter(user=user).delete()
album = Album.objects.order_by('id')[Album.objects.count() * 42 // 100]
print(album.pk, app_password_create(user=user, name='bench').secret)")
auth="apiKey=$key&v=1.16.1&c=bench&f=json"

setsid bash -c "echo \$\$ >'$OUT/project.pid'; exec $PROJECT_CMD" >"$OUT/project.log" 2>&1 &
for _ in $(seq 1 20); do [ -s "$OUT/project.pid" ] && break; sleep 0.1; done
trap 'kill -- -"$(cat "$OUT/project.pid")" 2>/dev/null' EXIT
for _ in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/api/health/" && break; sleep 0.5
done

measure() { # path → "rps p99ms"
  local line
  line=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency "http://127.0.0.1:$PORT$1" 2>&1)
  awk '/Requests\/sec/ {rps=int($2)} $1=="99%" {v=$2; if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /us$/) {sub("us","",v); v=v/1000} else if (v ~ /s$/) {sub("s","",v); v=v*1000}; p99=int(v)} /Non-2xx/ {bad=1} END {print rps+0, p99+0, bad+0}' <<<"$line"
}

pairs=(
  "newest albums|/api/albums/?limit=20|/rest/getAlbumList2?type=newest&size=20&$auth"
  "artists|/api/artists/?limit=100|/rest/getArtists?$auth"
  "search|/api/search/?q=Song%2099999|/rest/search3?query=Song%2099999&$auth"
  "album|/api/albums/$album_id/|/rest/getAlbum?id=al-$album_id&$auth"
)
echo "| read | REST req/s (p99 ms) | Subsonic req/s (p99 ms) | Subsonic / REST |"
echo "| --- | --- | --- | --- |"
for pair in "${pairs[@]}"; do
  IFS='|' read -r name rest subsonic <<<"$pair"
  # Subsonic refuses with HTTP 200 and status "failed": check one answer before timing it.
  curl -fs "http://127.0.0.1:$PORT$subsonic" | grep -q '"status":"ok"' ||
    { echo "$subsonic did not answer status ok (log: $OUT/project.log)" >&2; exit 1; }
  read -r rest_rps rest_p99 rest_bad < <(measure "$rest")
  read -r sub_rps sub_p99 sub_bad < <(measure "$subsonic")
  ratio=$(awk -v s="$sub_rps" -v r="$rest_rps" 'BEGIN {printf (r ? "%.2f" : "-"), s / r}')
  flag=""; [ "$rest_bad$sub_bad" != "00" ] && flag=" (non-2xx answers!)"
  echo "| $name | $rest_rps ($rest_p99) | $sub_rps ($sub_p99) | $ratio$flag |"
done
echo "logs: $OUT" >&2
