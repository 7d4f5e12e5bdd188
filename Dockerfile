# syntax=docker/dockerfile:1
# Build stage: install the project and its dependencies into a virtualenv.
# Python 3.11, as the lock files are resolved for (and CI runs).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# The pinned, hashed dependencies first (a layer that changes only with the lock).
COPY requirements/base.lock ./requirements/base.lock
RUN pip install --require-hashes -r requirements/base.lock
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-deps --no-build-isolation .

# Web stage: build the web app (web/, Vite) with Node.js 20; only its output goes on.
FROM node:20-bookworm-slim AS web
# Tests use Debian's Chromium, never a downloaded browser; the build needs none.
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /web
# The locked dependencies first (a layer that changes only with the lock).
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# Runtime stage: the virtualenv, migrations, the web app's build and a non-root user;
# nothing else.
FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \
    WEB_DIST_DIR=/app/web/dist
RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY migrations ./migrations
# The app is installed into the virtualenv, not beside web/, so WEB_DIST_DIR (above) says
# where its build is.
COPY --from=web /web/dist /app/web/dist
COPY docker/entrypoint.sh /usr/local/bin/entrypoint.sh
USER app
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/ready').status != 200)"
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
# X-Forwarded-For is trusted only from FORWARDED_ALLOW_IPS (default 127.0.0.1): set it to
# your load balancer's address, never to "*" on a port clients can reach directly, or
# anyone can pick the address the per-address rate limits count.
CMD ["sh", "-c", "exec gunicorn 'app.main:create_app()' -c python:app.gunicorn_conf -w ${WEB_CONCURRENCY} -b ${HOST}:${PORT}"]
