#!/usr/bin/env python3
"""Write every secret the team setup needs into deploy/secrets/ (git ignores it): one file per secret, 0600.

    python3 deploy/make_secrets.py              # writes the missing ones, keeps the rest
    python3 deploy/make_secrets.py --dir DIR    # elsewhere (the team-setup test)

Each value is random (secrets.token_urlsafe); the services read them as Compose secrets under /run/secrets/,
through deploy/with-secrets.sh, never from a command line or deploy/.env. Standard library only, so it runs on
any host with Python 3.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

RANDOM = (
    "postgres_password",
    "mlflow_tracking_db_password",
    "mlflow_auth_db_password",
    "prefect_db_password",
    "s3_root_user",
    "s3_root_password",
    "mlflow_s3_secret",
    "pipeline_s3_secret",
    "reader_s3_secret",
    "mlflow_admin_password",
    "mlflow_secret_key",
)
"""One value each: PostgreSQL's superuser (the set-up only) and one role per service; MinIO's root (the set-up
job only) and one S3 identity per role; MLflow's first admin and its session key."""
DATABASES = {
    "mlflow": ("mlflow_tracking", "mlflow_tracking_db_password"),
    "mlflow_auth": ("mlflow_auth", "mlflow_auth_db_password"),
}
"""MLflow's two databases, each with its own role: the server reads both passwords from one libpq password file."""


def write(path: Path, value: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")


def make(directory: Path) -> list[str]:
    """Write the missing secrets into `directory`; the names written."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    for name in RANDOM:
        if not (directory / name).exists():  # MinIO's root user name: at most 20 characters
            write(directory / name, secrets.token_hex(10) if name == "s3_root_user" else secrets.token_urlsafe(24))
            written.append(name)
    if not (directory / "prefect_auth_string").exists():  # Prefect's is user:password
        write(directory / "prefect_auth_string", f"team:{secrets.token_urlsafe(24)}")
        written.append("prefect_auth_string")
    pgpass = directory / "mlflow_pgpass"
    lines = [
        f"*:*:{database}:{role}:{(directory / source).read_text().strip()}"
        for database, (role, source) in DATABASES.items()
    ]
    if not pgpass.exists() or pgpass.read_text().splitlines() != lines:
        pgpass.unlink(missing_ok=True)
        write(pgpass, "\n".join(lines))
        written.append("mlflow_pgpass")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default=str(Path(__file__).resolve().parent / "secrets"))
    args = parser.parse_args(argv)
    written = make(Path(args.dir))
    print(f"{args.dir}: wrote {', '.join(written)}" if written else f"{args.dir}: every secret is there already")
    return 0


if __name__ == "__main__":
    sys.exit(main())
