#!/bin/bash
# Entrypoint of the offline postgres stand-in: the official image's behaviour, for what the
# stack uses. POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
# POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default $POSTGRES_USER), each also as *_FILE;
# POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256), PGDATA (default
# /var/lib/postgresql/data); /docker-entrypoint-initdb.d/*.sql|*.sh on first start;
# `docker run IMAGE -c key=value` runs `postgres -c key=value`.
set -Eeuo pipefail
PGBIN=/usr/lib/postgresql/${PG_MAJOR:-15}/bin
export PGDATA=${PGDATA:-/var/lib/postgresql/data}

# VAR or VAR_FILE (the official image's convention for secrets).
file_env() {
  local var=$1 file_var="${1}_FILE" def=${2:-}
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "error: both $var and $file_var are set" >&2; exit 1
  fi
  local val=$def
  if [ -n "${!var:-}" ]; then val=${!var}; elif [ -n "${!file_var:-}" ]; then val=$(< "${!file_var}"); fi
  export "$var"="$val"; unset "$file_var"
}

if [ "${1:-}" = "" ] || [ "${1:0:1}" = "-" ]; then set -- postgres "$@"; fi

if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"; chmod 2775 /var/run/postgresql
  # Re-run as postgres; setpriv execs in place (no extra parent process, no gosu needed).
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  file_env POSTGRES_USER postgres
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  AUTH=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$AUTH" != trust ]; then
    echo "error: POSTGRES_PASSWORD is not set (or set POSTGRES_HOST_AUTH_METHOD=trust)" >&2; exit 1
  fi
  pwfile=$(mktemp); printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
  # minbase has no `locales`: C.UTF-8 is built into glibc; without it initdb picks SQL_ASCII.
  # shellcheck disable=SC2086
  "$PGBIN/initdb" --username="$POSTGRES_USER" --pwfile="$pwfile" \
      --auth-local=trust --auth-host="$AUTH" --encoding=UTF8 --locale=C.UTF-8 \
      $POSTGRES_INITDB_ARGS >/dev/null
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "$AUTH" >> "$PGDATA/pg_hba.conf"
  printf "\nlisten_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  # A temporary server for the database and the init scripts: no TCP, and its socket in a
  # private folder, so neither other containers nor the healthcheck (pg_isready on the default
  # socket) see a server before the init is done.
  initsock=$(mktemp -d)
  "$PGBIN/pg_ctl" -D "$PGDATA" -w -o "-c listen_addresses='' -c unix_socket_directories=$initsock" start >/dev/null
  export PGHOST=$initsock
  psql=( "$PGBIN/psql" -v ON_ERROR_STOP=1 -X -q --username "$POSTGRES_USER" --no-password )
  if [ "$POSTGRES_DB" != postgres ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) echo "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      *.sh) echo "running $f"; . "$f" ;;
    esac
  done
  "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  unset PGHOST; rmdir "$initsock"
  echo "init done: user=$POSTGRES_USER db=$POSTGRES_DB auth=$AUTH encoding=UTF8 locale=C.UTF-8"
fi

# exec: postgres becomes PID 1 and receives docker's stop signal (SIGINT) itself.
if [ "$1" = postgres ]; then shift; exec "$PGBIN/postgres" "$@"; fi
exec "$@"
