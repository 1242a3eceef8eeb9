#!/bin/sh
# The set-up job, the only holder of MinIO's root keys: the two buckets, then one identity per role with its
# policy from deploy/s3-policies/ (the MLflow server: the artifact bucket; the pipeline: the DVC bucket; readers:
# read the DVC bucket). Keys reach mc through its environment and stdin, never a command line. Re-running it
# converges to the same state.
set -eu
export MC_HOST_s3="$(printf '%s' "$S3_ENDPOINT" | sed "s#://#://$S3_ROOT_USER:$S3_ROOT_PASSWORD@#")"
until mc ls s3 >/dev/null 2>&1; do sleep 1; done
mc mb --ignore-existing s3/mlflow s3/dvc
add() {  # identity secret
    mc admin policy create s3 "$1" "/deploy/s3-policies/$1.json"
    printf '%s\n' "$2" | mc admin user add s3 "$1"
    mc admin policy attach s3 "$1" --user "$1" || true   # already attached on a re-run
}
add mlflow-server "$MLFLOW_S3_SECRET"
add pipeline "$PIPELINE_S3_SECRET"
add reader "$READER_S3_SECRET"
