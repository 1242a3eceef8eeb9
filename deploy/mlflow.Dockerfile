# The MLflow tracking server: MLflow with its basic-auth app, the PostgreSQL driver, the S3 client, and
# this project's authorization rule (components/registry/server_auth.py; deploy/mlflow-auth.ini names it).
FROM python:3.11-slim
RUN pip install --no-cache-dir "mlflow[auth]==3.17.2" psycopg2-binary==2.9.13 boto3==1.43.117
COPY components/__init__.py /srv/latent/components/
COPY components/registry/__init__.py components/registry/server_auth.py /srv/latent/components/registry/
ENV PYTHONPATH=/srv/latent
EXPOSE 5000
