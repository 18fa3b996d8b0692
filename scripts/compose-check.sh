#!/usr/bin/env bash
# Validates docker-compose.yml with `docker-compose config` from Debian's
# docker-compose package (no container engine is needed for that),
# installing the package when it is missing, and checks that the file
# still runs two replicas on MySQL and Redis with health checks on
# /readyz, depends_on conditions and shared secrets.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "docker-compose is missing and installing it needs root: apt-get install -y docker-compose" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker-compose >/dev/null
fi
out=$(SESSION_SECRET=compose-check-session CRYPTO_SECRET=compose-check-crypto docker-compose -f docker-compose.yml config)
fail() { echo "docker-compose.yml: $*" >&2; exit 1; }
for svc in switchyard-1 switchyard-2 mysql redis; do
  grep -q "^  $svc:" <<<"$out" || fail "service $svc is missing"
done
[ "$(grep -c 'condition: service_healthy' <<<"$out")" -ge 5 ] || fail "depends_on conditions are missing"
[ "$(grep -c '/readyz' <<<"$out")" -ge 2 ] || fail "each replica needs a health check on /readyz"
[ "$(grep -c 'SESSION_SECRET: compose-check-session' <<<"$out")" -eq 2 ] || fail "both replicas must share SESSION_SECRET"
[ "$(grep -c 'CRYPTO_SECRET: compose-check-crypto' <<<"$out")" -eq 2 ] || fail "both replicas must share CRYPTO_SECRET"
[ "$(grep -c 'REDIS_CONN_STRING: redis://redis:6379/0' <<<"$out")" -eq 2 ] || fail "both replicas need Redis"
# Without the secrets the file refuses rather than starting with defaults.
if env -u SESSION_SECRET -u CRYPTO_SECRET docker-compose -f docker-compose.yml config >/dev/null 2>&1; then
  fail "it must refuse to run without SESSION_SECRET and CRYPTO_SECRET"
fi
echo "docker-compose.yml: valid ($(docker-compose version --short))"
