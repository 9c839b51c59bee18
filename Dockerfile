# Thủ Đô Số API image (production: needs DATABASE_URL; the embedded PostgreSQL is a development default).
#
#   docker build -t thudo .
#   docker run --rm -e DATABASE_URL=postgresql://... thudo thudo migrate     # release step, before rollout
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://... -e PII_KEY=... \
#              -v /secrets/token-keys:/keys:ro -e TOKEN_KEYS_DIR=/keys thudo    # thudo serve (docs/operations.md)
#   docker run -e DATABASE_URL=postgresql://... thudo thudo worker            # background worker
#
# Migrations are deliberately NOT run by `serve` in production: they run once per release as a
# separate step (a Kubernetes Job / init container), so many pods never race to change the schema.

FROM python:3.11.14-slim-bookworm AS builder
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first: this layer is reused until uv.lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY api ./api
COPY domain ./domain
COPY adapters ./adapters
COPY migrations ./migrations
# The project is installed editable (a .pth to /app), so the migration runner finds /app/migrations.
RUN uv sync --frozen --no-dev

FROM python:3.11.14-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 thudo \
 && useradd --system --uid 10001 --gid thudo --home-dir /app --no-create-home --shell /usr/sbin/nologin thudo \
 && mkdir -p /app/data \
 && chown thudo:thudo /app/data
WORKDIR /app
COPY --from=builder /app /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data
USER 10001:10001
EXPOSE 8000
# slim has no curl: the standard library is enough to probe liveness.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('PORT', '8000'), timeout=2)"]
CMD ["thudo", "serve"]
