#!/usr/bin/env bash
# Runs every test: unit tests, doc tests and the integration-test binary (tests/it),
# against SQLite and a real PostgreSQL. If SORSYNC_TEST_POSTGRES_URL is not set, a throw-away
# PostgreSQL is started on a loopback port in a temp dir (as the `postgres` user when run as root)
# and stopped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${SORSYNC_TEST_POSTGRES_URL:-}" ]; then
  source scripts/pg-temp.sh
  pg_temp_start
  trap pg_temp_stop EXIT
fi
export SORSYNC_TEST_POSTGRES_URL
# Tests that need PostgreSQL fail (not skip) when it is missing.
export SORSYNC_REQUIRE_POSTGRES=1

cargo test --locked --workspace "$@"
