#!/bin/sh
# Entrypoint of the offline redis stand-in: the official image's behaviour. `docker run IMAGE`
# runs redis-server in the foreground as user redis with its data in /data; arguments starting
# with `-` are redis-server's (`docker run IMAGE --appendonly yes`); `redis-server ARGS…` (as
# the Compose file's command) too; anything else is run as is.
set -eu
case "${1:-}" in ''|-*) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /data
  find /data \! -user redis -exec chown redis:redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "$1" = redis-server ]; then
  shift
  # No config file: Debian's /etc/redis/redis.conf daemonizes, binds 127.0.0.1 and logs to a
  # file. Like the official image: listen on every address (IPv6 when there is one), protected
  # mode off (the official build disables it), data in /data. The caller's arguments come
  # last, so they win.
  exec redis-server --bind '* -::*' --protected-mode no --daemonize no --dir /data "$@"
fi
exec "$@"
