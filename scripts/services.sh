#!/usr/bin/env bash
# Start PostgreSQL and Redis (Debian's packages) on loopback for the tests and benchmarks
# of issue #9, and print the two variables that point the tests at them:
#   eval "$(scripts/services.sh)"
# Idempotent: services already running are left alone.  Needs root (or the postgres
# user through sudo) the first time, to create the role and the database.
set -euo pipefail
# Only the two export lines go to stdout (they are eval'ed); everything the tools print
# goes to stderr.  pg_ctlcluster, for one, prints "Removed stale pid file." on stdout
# when the machine was imaged with the cluster running: eval ran it as a command.
exec 3>&1 1>&2
PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main -p "$PG_PORT" 3>&-
fi
if ! pg_lsclusters -h | grep "^$version main" | grep -q online; then
  pg_ctlcluster "$version" main start 3>&-  # the server must not hold the eval's pipe
fi
for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.2; done
as_postgres psql -q -p "$PG_PORT" -v ON_ERROR_STOP=1 <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'finews') THEN
    CREATE ROLE finews LOGIN PASSWORD 'finews' CREATEDB;
  END IF;
END $$;
SQL
# finews_test for the tests, finews_bench for bench/ (each run empties its own)
for db in finews_test finews_bench; do
  if ! as_postgres psql -p "$PG_PORT" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    as_postgres createdb -p "$PG_PORT" -O finews "$db"
  fi
done

if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' \
    --appendonly no --logfile /tmp/finews-redis.log 3>&-
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

echo "export TEST_POSTGRES_URL=postgresql://finews:finews@127.0.0.1:$PG_PORT/finews_test" >&3
echo "export TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0" >&3
