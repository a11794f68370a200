#!/bin/bash
# Run once by the official image on the primary's empty volume (after postgres-init.sql): the role
# the replica clones and follows with, its password the postgres-password secret's.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
  -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '$(cat /run/secrets/postgres-password)'"
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
