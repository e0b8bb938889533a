#!/bin/sh
# Minimal stand-in for the official redis image's entrypoint.
# `docker run img` -> redis-server on 0.0.0.0:6379 in the foreground as user redis, data in /data.
set -eu
# `docker run img --appendonly yes` -> redis-server --appendonly yes
case "${1:-}" in ''|-*) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /data; chown redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi
if [ "$1" = redis-server ]; then
  shift
  # No config file: Debian's /etc/redis/redis.conf daemonizes, binds 127.0.0.1 and logs to a file.
  # protected-mode would refuse non-loopback clients when no password is set (official image does the same).
  exec redis-server --bind '0.0.0.0 ::' --protected-mode no --daemonize no --dir /data "$@"
fi
exec "$@"
