#!/usr/bin/env bash
# Install (when missing) and start a local PostgreSQL server for the tests, then
# print the URL the tests read from CREDITLIMIT_TEST_POSTGRES_URL.
# Needs root (apt-get and su); the server listens on localhost only.
set -euo pipefail

if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_lsclusters -h | grep -q online; then
  if [ -z "$(pg_lsclusters -h)" ]; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    pg_createcluster "$version" main >/dev/null
  fi
  cluster=$(pg_lsclusters -h | head -1 | awk '{print $1" "$2}')
  pg_ctlcluster $cluster start
fi
su postgres -c "psql -q -v ON_ERROR_STOP=1" <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'creditlimit') THEN
    CREATE ROLE creditlimit LOGIN PASSWORD 'creditlimit' CREATEDB;
  END IF;
END $$;
SQL
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = 'creditlimit_test'\"" | grep -q 1; then
  su postgres -c "createdb -O creditlimit creditlimit_test"
fi
port=$(pg_lsclusters -h | awk '$4 == "online" {print $3; exit}')
echo "postgresql+psycopg://creditlimit:creditlimit@localhost:${port}/creditlimit_test"
