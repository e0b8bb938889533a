#!/bin/sh
# Remove what a container never needs from a debootstrap folder ($1).
set -eu
r=$1
rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/* \
       "$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/locale/* \
       "$r"/var/log/*.log "$r"/var/log/apt/* "$r"/tmp/* "$r"/var/tmp/*
# postgresql-15's postinst creates a 'main' cluster (~40 MB) for systemd/pg_ctlcluster; not used here.
rm -rf "$r"/var/lib/postgresql/15 "$r"/etc/postgresql/15
