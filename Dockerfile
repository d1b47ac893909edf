# p2pcommons production image: gunicorn serves the site (static files via whitenoise);
# the same image runs the Celery worker, Celery beat and the one-shot migrations
# (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=p2pcommons.settings.production \
    WEB_CONCURRENCY=3

WORKDIR /app

# A home of its own: gunicorn keeps its control socket in ~/.gunicorn.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

# Dependencies first, so a code change does not reinstall them.
# (README.md* : the glob keeps the build working while the README is absent.)
COPY pyproject.toml README.md* ./
RUN pip install .

COPY . .

# Static files are collected once, at build time, into var/staticfiles (STATIC_ROOT).
# The secret, hosts, cache and mail server here exist only for this command (nothing
# connects to them); the real ones come from the environment at run time. The media folder is created owned by the app user so
# a named volume mounted on it starts out writable.
RUN DJANGO_SETTINGS_MODULE=p2pcommons.settings.production \
    SECRET_KEY=collectstatic-at-build-time-only \
    LEDGER_LOG_SECRET=collectstatic-at-build-time-only \
    ALLOWED_HOSTS='*' \
    CELERY_BROKER_URL=memory:// \
    REDIS_URL=redis://build-only.invalid:6379/0 \
    EMAIL_URL=smtp://build-only.invalid:25 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/media \
    && chown -R app:app /app/var

USER app

EXPOSE 8000

# No curl in the slim image: ask /healthz/ with the standard library. The Host header
# is the first of ALLOWED_HOSTS, so the check passes whatever hosts are configured.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; r = u.urlopen(u.Request('http://127.0.0.1:8000/healthz/', headers={'Host': h}), timeout=4); raise SystemExit(0 if r.status == 200 else 1)"]

# Serve it behind a reverse proxy (see docker-compose.yml and deploy/Caddyfile): the app
# trusts X-Forwarded-Proto. The limits refuse oversized request lines and headers.
CMD ["sh", "-c", "exec gunicorn p2pcommons.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-3} --limit-request-line 4094 --limit-request-fields 60 --limit-request-field_size 8190"]
