# Kodebayar: one process (Telegram bot + HTTP server for Pivot callbacks and /healthz).
# Secrets come from the environment at run time (compose's env_file); none is baked in.
FROM python:3.11-slim

# The database on the volume, listening on every interface. compose.yaml sets these three again
# over .env (whose values are for running without Docker); with plain `docker run --env-file`,
# leave DATABASE_PATH, HTTP_HOST and HTTP_PORT out of that file.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_PATH=/data/kodebayar.db \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir bot pivot_client storage \
    && touch bot/__init__.py pivot_client/__init__.py storage/__init__.py \
    && pip install . \
    && pip uninstall --yes kodebayar \
    && rm -rf bot pivot_client storage

COPY bot ./bot
COPY pivot_client ./pivot_client
COPY storage ./storage
RUN pip install --no-deps .

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin kodebayar \
    && mkdir /data \
    && chown kodebayar /data
USER 10001
VOLUME ["/data"]
EXPOSE 8080

# slim has no curl; the standard library can ask /healthz, which is 503 until ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8080') + '/healthz', timeout=4)"]

STOPSIGNAL SIGTERM
CMD ["kodebayar", "run"]
