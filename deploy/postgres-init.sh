#!/bin/sh
# Run once by the postgres image on an empty data directory, as its superuser (whose password nothing else
# holds): one login role and one database per service, none a superuser or able to create roles or databases,
# each database closed to every role but its owner. The passwords come from deploy/with-secrets.sh.
set -eu
create() {  # role database password
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres <<SQL
CREATE ROLE $1 LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '$3';
CREATE DATABASE $2 OWNER $1;
REVOKE ALL ON DATABASE $2 FROM PUBLIC;
SQL
}
create mlflow_tracking mlflow "$MLFLOW_TRACKING_DB_PASSWORD"   # MLflow's runs, models and registry
create mlflow_auth mlflow_auth "$MLFLOW_AUTH_DB_PASSWORD"      # MLflow's users and permissions
create prefect prefect "$PREFECT_DB_PASSWORD"                  # Prefect's flows, runs and schedules
