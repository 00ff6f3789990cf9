#!/usr/bin/env bash
# Install (when missing) and start a local PostgreSQL server for the tests, then
# print the URL the tests read from CREDITLIMIT_TEST_POSTGRES_URL.
# Needs root (apt-get and su); the server listens on localhost only.
# Only the URL goes to standard output; server messages go to standard error.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_lsclusters -h | grep -q online; then
  if [ -z "$(pg_lsclusters -h)" ]; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_createcluster "$version" main >&2
  fi
  cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
  pg_ctlcluster $cluster start >&2
fi
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'creditlimit') THEN
    CREATE ROLE creditlimit LOGIN PASSWORD 'creditlimit' CREATEDB;
  END IF;
END $$;
SQL
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'creditlimit_test'\"" | grep -q 1; then
  su postgres -c "createdb -O creditlimit creditlimit_test" >&2
fi
port=$(pg_lsclusters -h | awk '$4 == "online" {print $3; exit}')
echo "postgresql+psycopg://creditlimit:creditlimit@localhost:${port}/creditlimit_test"
