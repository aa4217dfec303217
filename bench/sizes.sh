#!/usr/bin/env bash
# The hot reads at several catalog sizes, each on its own database filled by
# `manage.py seed_scale` (the benchmark's shape; plays = songs / 5), plus made-for-you signed in
# and a search term that matches every song.
#
#   bench/sizes.sh [SONGS ...]        default: 10000 100000 1000000
#
# Run from the project's root with .venv installed and wrk on the PATH (apt install wrk);
# PostgreSQL at PGHOST/PGUSER (default 127.0.0.1, postgres). Databases bench_<songs> (or the one
# BENCH_DB for every size) are dropped and made again. The tables print to stdout.
#
# The wrk table comes from bench/run.sh, the project alone. When ../shared/bench/run.sh is
# there (or BENCH names another folder holding a run.sh), it is used instead: the same rows
# beside the seed's stack and a floor, on port 8801. COMPARE=0 keeps the project-only run.
# PROJECT_CMD is the production command (deploy/gunicorn.conf.py, 2 workers).
set -euo pipefail
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=${BENCH:-../shared/bench}  # an optional comparison, never required
if [ "${COMPARE:-1}" != 0 ] && [ -f "$BENCH/run.sh" ]; then RUN=$BENCH/run.sh; else RUN=$HERE/run.sh; fi
echo "wrk tables by $RUN" >&2
SECRET_KEY=bench-secret-key-bench-secret-key-bench-0123456789  # the one run.sh serves with
PORT=8801  # run.sh's
settings_package=$([ -f config/wsgi.py ] && echo config || echo core)
PROJECT_CMD=${PROJECT_CMD:-$PWD/.venv/bin/gunicorn $settings_package.wsgi:application -c deploy/gunicorn.conf.py -w 2 -b 127.0.0.1:$PORT}
export PROJECT_CMD
pidfile=$(mktemp)

django() { # database, python code: prints what the code prints
  DATABASE_URL=$1 SECRET_KEY=$SECRET_KEY .venv/bin/python manage.py shell --verbosity 0 -c "$2"
}

for songs in "${@:-10000 100000 1000000}"; do
  db=${BENCH_DB:-bench_$songs}
  url=postgres://$PGUSER@$PGHOST:5432/$db
  dropdb --force --if-exists "$db" && createdb "$db"
  DATABASE_URL=$url .venv/bin/python manage.py migrate --noinput >/dev/null
  DATABASE_URL=$url .venv/bin/python manage.py seed_scale --songs "$songs" --plays $((songs / 5)) >&2
  half=$((songs / 2))
  # Ids and a cursor from the loaded rows: the song and album at 42 % of their tables, and
  # the cursor of the songs list after item `half` (signed with run.sh's SECRET_KEY).
  read -r song_id album_id artist_id cursor < <(django "$url" "
from catalog.models import Album, Artist, Song
from django.test import RequestFactory
from core.pagination import Page
order = ['-created_at', '-id']
song = Song.objects.order_by('id')[int($songs * 0.42)]
album = Album.objects.order_by('id')[Album.objects.count() * 42 // 100]
artist = Artist.objects.order_by('id')[Artist.objects.count() * 42 // 100]
middle = Song.objects.order_by(*order)[$half - 1]
songs_list = RequestFactory().get('/api/songs/')  # a cursor is signed for its list
print(song.pk, album.pk, artist.pk, Page._cursor(order, middle, songs_list))")
  echo "## $songs songs"
  echo
  SONG_ID=$song_id ALBUM_ID=$album_id DATABASE_URL=$url PATHS="/api/songs/ /api/songs/?offset=$half \
/api/songs/?cursor=$cursor /api/songs/$song_id/ /api/songs/featured/ /api/songs/trending/ \
/api/albums/$album_id/ /api/songs/?search=Song%2099999 /api/albums/?search=Album%20777 \
/api/search/?q=Song%2099999 /api/artists/?search=Artist%20777 /api/artists/$artist_id/" \
    bash "$RUN" | sed "s|?cursor=[^ ]*|?cursor=<item $half>|"
  echo

  # Made for you, signed in as the listener with the most plays (the peer has no such list).
  token=$(django "$url" "
from datetime import timedelta
from django.db.models import Count
from ninja_jwt.tokens import AccessToken
from catalog.models import Play
from users.models import User
top = Play.objects.values('user_id').annotate(n=Count('id')).order_by('-n')[0]['user_id']
token = AccessToken.for_user(User.objects.get(pk=top)); token.set_exp(lifetime=timedelta(hours=1))
print(token)")
  (DEBUG=False SECURE_SSL_REDIRECT=False ALLOWED_HOSTS=127.0.0.1 SECRET_KEY=$SECRET_KEY DATABASE_URL=$url \
    setsid bash -c "exec $PROJECT_CMD" >/dev/null 2>&1 & echo $! >$pidfile)
  for _ in $(seq 1 60); do curl -fs -o /dev/null http://127.0.0.1:$PORT/api/health/ && break; sleep 0.5; done
  made=$(wrk -t2 -c16 -d5s --latency -H "Authorization: Bearer $token" http://127.0.0.1:$PORT/api/songs/made-for-you/)
  echo "- made-for-you, signed in: $(awk '/Requests\/sec/ {print int($2)}' <<<"$made") req/s, p99 $(awk '$1=="99%" {print $2}' <<<"$made")"
  # A term in every title: counted once (then kept SEARCH_COUNT_SECONDS), the page by index.
  for attempt in first again; do
    echo "- \`?search=song\` (every song matches), $attempt request: $(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/api/songs/?search=song") s"
  done
  # The one search box with a term in every title: ranked among the first 1,000 found.
  for attempt in first again; do
    echo "- \`/api/search/?q=song\` (every song matches), $attempt request: $(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/api/search/?q=song") s"
  done
  kill -- -"$(cat $pidfile)" 2>/dev/null || true
  sleep 1
  echo
done
