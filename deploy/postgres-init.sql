-- Run once by the postgres image on an empty data directory: MLflow's tracking store is the `mlflow`
-- database it creates itself; these hold MLflow's users and permissions, and Prefect's state.
CREATE DATABASE mlflow_auth;
CREATE DATABASE prefect;
