#!/usr/bin/env bash
# Checks the TypeScript client against the server's OpenAPI schema:
#   1. schema.d.ts is what the pinned openapi-typescript makes of openapi.json now;
#   2. examples/every-endpoint.ts calls every operation of the schema;
#   3. everything compiles with `tsc --strict`; `npm ci` also builds the package's dist/
#      (its `prepare` script), so a build failure fails here too.
#
#   bash clients/typescript/check.sh [path/to/openapi.json]
#
# Runs from any directory. The schema defaults to the repo root's openapi.json,
# which `make schema` writes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
schema_json="${1:-$here/../../openapi.json}"

if [[ ! -f "$schema_json" ]]; then
  echo "check.sh: no OpenAPI schema at $schema_json: run make schema first" >&2
  exit 2
fi
# Absolute, because the rest runs in this folder.
schema_json="$(cd "$(dirname "$schema_json")" && pwd)/$(basename "$schema_json")"

cd "$here"
npm ci --loglevel=error --no-audit --no-fund >/dev/null

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

node scripts/generate.mjs "$schema_json" "$tmp/first.d.ts" >/dev/null
node scripts/generate.mjs "$schema_json" "$tmp/second.d.ts" >/dev/null
if ! cmp -s "$tmp/first.d.ts" "$tmp/second.d.ts"; then
  diff -u "$tmp/first.d.ts" "$tmp/second.d.ts" | head -n 40 >&2 || true
  echo "openapi-typescript gave two different outputs for the same schema: schema.d.ts cannot be checked" >&2
  exit 1
fi

if ! cmp -s "$tmp/first.d.ts" schema.d.ts; then
  diff -u schema.d.ts "$tmp/first.d.ts" | head -n 60 >&2 || true
  echo "clients/typescript/schema.d.ts is stale: run make client" >&2
  exit 1
fi
echo "clients/typescript/schema.d.ts matches $schema_json"

node scripts/check-coverage.mjs "$schema_json" examples/every-endpoint.ts

npx --no-install tsc --strict --noEmit -p .
echo "clients/typescript: tsc --strict passed"
