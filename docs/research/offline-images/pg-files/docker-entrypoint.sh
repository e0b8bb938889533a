#!/bin/bash
# Minimal stand-in for the official postgres image's entrypoint.
# Honours POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
# POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default $POSTGRES_USER), PGDATA,
# POSTGRES_INITDB_ARGS, and runs /docker-entrypoint-initdb.d/*.sql|*.sh on first start.
set -Eeuo pipefail
PGBIN=/usr/lib/postgresql/15/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data}
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
AUTH=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}

# `docker run img -c foo=bar` -> postgres -c foo=bar (same as the official image)
if [ "${1:-}" = "" ] || [ "${1:0:1}" = "-" ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"; chmod 2775 /var/run/postgresql
  # re-exec this script as postgres; setpriv execs in place (no extra parent process)
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$AUTH" != trust ]; then
    echo "error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2; exit 1
  fi
  pwfile=$(mktemp); printf '%s' "${POSTGRES_PASSWORD:-}" > "$pwfile"
  # No `locales` package in minbase: C.UTF-8 is built into glibc; without it initdb picks SQL_ASCII.
  "$PGBIN/initdb" --username="$POSTGRES_USER" --pwfile="$pwfile" \
      --auth-local=trust --auth-host="$AUTH" --encoding=UTF8 --locale=C.UTF-8 \
      ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "$AUTH" >> "$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  # temporary server on the unix socket only, to create the db and run init scripts
  "$PGBIN/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
  psql=( "$PGBIN/psql" -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --no-password )
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sh)  echo "running $f"; . "$f" ;;
    esac
  done
  "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  echo "initdb done: user=$POSTGRES_USER db=$POSTGRES_DB auth=$AUTH"
fi

# exec: postgres becomes PID 1 and gets docker's stop signal directly.
[ "$1" = postgres ] && shift && exec "$PGBIN/postgres" "$@"
exec "$@"
