#!/bin/sh
# Patroni's post_bootstrap (patroni.yml), run once on the first leader's new cluster with a superuser
# connection URL as $1: the services' role (password: the postgres-password secret) and databases.
# The replication role is Patroni's own (PATRONI_REPLICATION_*).
set -eu
psql "$1" -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE cairn LOGIN PASSWORD '$(cat /run/secrets/postgres-password)'" \
  -c "CREATE DATABASE reserves OWNER cairn" \
  -c "CREATE DATABASE arbitrage OWNER cairn"
