#!/usr/bin/env bash
# STAND-IN for the effect of DataSurface's ring1-init Job in the local lab, whose KWOK nodes run no
# container (run by tests/lab/ring1_effect.py when the real Job controller marks the ring1-init Job
# Complete; issue 13 runs the real pod): creates the merge database tables the real job creates, so
# the verify phase checks real tables on the real lab PostgreSQL. The password comes from PGPASSFILE
# (never the command line).
#   usage: simulate_ring1.sh HOST DATABASE USER PSP
set -euo pipefail
host=$1 db=$2 user=$3 psp=${4,,}
echo "lab: simulating ring1-init for PSP $psp on $host/$db (the real job creates these tables)"
psql -v ON_ERROR_STOP=1 -X -q -h "$host" -U "$user" -d "$db" <<SQL
CREATE TABLE IF NOT EXISTS "${psp}_factory_dags" (dag_id text PRIMARY KEY, config jsonb, created_at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS "scd1_airflow_dsg" (dag_id text PRIMARY KEY, config jsonb);
CREATE TABLE IF NOT EXISTS "scd2_airflow_dsg" (dag_id text PRIMARY KEY, config jsonb);
SQL
echo "lab: tables present: ${psp}_factory_dags scd1_airflow_dsg scd2_airflow_dsg"
