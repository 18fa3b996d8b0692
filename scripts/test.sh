#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this). It runs go vet
# and the whole suite under the race detector against SQLite, MariaDB/MySQL,
# PostgreSQL and Redis, starting a local service that is down.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
go vet ./...
go test -race -count=1 -timeout 14m ./...
