#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this). It makes sure the
# services, Chromium and the console's npm packages are there, validates
# docker-compose.yml (installing Debian's docker-compose when missing), rebuilds the
# console and fails if the committed bundle is stale, then runs go vet and
# the whole Go suite under the race detector: SQLite, MariaDB/MySQL,
# PostgreSQL and Redis for real, and the console in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/services.sh
scripts/compose-check.sh
web/e2e/install-chromium.sh
web/check.sh
go vet ./...
# The race detector's instrumentation allocates: the allocation bounds of
# the relay's hot path are checked once without it (internal/raceflag).
go test -count=1 -run 'Alloc' ./relay/... ./model/
go test -race -count=1 -timeout 16m ./...
