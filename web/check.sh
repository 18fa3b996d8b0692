#!/usr/bin/env bash
# Rebuilds the console from a clean install, runs its unit tests, and fails
# when the committed bundle in web/dist differs from what the sources build to.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
npm test
stale="$(git status --porcelain -- dist)"
if [ -n "$stale" ]; then
  echo "web/dist is stale; run 'cd web && npm ci && npm run build' and commit web/dist:" >&2
  echo "$stale" >&2
  exit 1
fi
echo "web/dist is up to date"
