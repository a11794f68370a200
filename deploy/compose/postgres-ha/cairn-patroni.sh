#!/bin/sh
# The image's Patroni member: the passwords from the secret files (never the environment of the
# container), then Patroni on /etc/patroni/cairn.yml (the rest from PATRONI_* variables).
set -eu
PATRONI_SUPERUSER_PASSWORD="$(cat /run/secrets/postgres-password)"
PATRONI_REPLICATION_PASSWORD="$(cat "${REPLICATION_PASSWORD_FILE:-/run/secrets/replication-password}")"
export PATRONI_SUPERUSER_PASSWORD PATRONI_REPLICATION_PASSWORD
exec patroni /etc/patroni/cairn.yml
