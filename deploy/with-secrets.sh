#!/bin/sh
# Every service's entrypoint in deploy/docker-compose.yml: for each NAME_FILE variable that names a file in the
# secrets directory (/run/secrets, where Compose mounts its secrets; $SECRETS_DIR elsewhere), read the file into
# NAME, refusing a missing, short or example value with one `error:` line, then run the command. Secrets so reach
# a server through its environment, never its command line or deploy/.env. Other *_FILE variables are left alone.
set -eu
secrets_dir=${SECRETS_DIR:-/run/secrets}
for variable in $(env | sed -n 's/^\([A-Z][A-Z0-9_]*\)_FILE=.*/\1/p'); do
    eval "file=\${${variable}_FILE}"
    case "$file" in "$secrets_dir"/*) ;; *) continue ;; esac
    if [ ! -r "$file" ]; then
        echo "error: $variable: cannot read the secret file $file (run python3 deploy/make_secrets.py)" >&2
        exit 1
    fi
    value=$(cat "$file")
    case "$value" in
        *change-me* | *changeme* | *example* | *password123*)
            echo "error: $variable: $file holds an example value; run python3 deploy/make_secrets.py" >&2
            exit 1 ;;
    esac
    if [ "${#value}" -lt 16 ]; then
        echo "error: $variable: $file holds fewer than 16 characters; run python3 deploy/make_secrets.py" >&2
        exit 1
    fi
    export "$variable=$value"
    unset "${variable}_FILE"
done
exec "$@"
