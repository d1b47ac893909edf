"""The container stack: docker-compose.yml and the Dockerfile it builds.

These read the files only (no Docker engine, no database): they guard the wiring that
a production deployment depends on.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
CADDYFILE = ROOT / "deploy" / "Caddyfile"

APP_SERVICES = ("web", "worker", "beat", "migrate")
PRODUCTION_SETTINGS = "p2pcommons.settings.production"
# What p2pcommons.settings.production reads with no default.
REQUIRED_PRODUCTION_ENV = ("SECRET_KEY", "LEDGER_LOG_SECRET", "ALLOWED_HOSTS", "EMAIL_URL", "REDIS_URL")


def load_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict:
    return load_compose()["services"]


def command_words(service: dict) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def named_volume_sources(service: dict) -> set[str]:
    sources = set()
    for volume in service.get("volumes", []):
        source = volume.get("source", "") if isinstance(volume, dict) else volume.split(":", 1)[0]
        if source and not source.startswith((".", "/", "~", "$")):
            sources.add(source)
    return sources


def dockerfile_instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), with continued lines joined."""
    instructions, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        pending += stripped
        if pending.strip():
            keyword, _, arguments = pending.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def test_it_defines_web_worker_beat_db_and_redis_plus_a_migrate_step():
    assert {"web", "worker", "beat", "db", "redis", "migrate"} <= set(services())


def test_it_uses_the_compose_spec_without_a_version_key():
    assert "version" not in load_compose()


def test_web_serves_the_wsgi_application_with_gunicorn_on_port_8000_to_the_proxy_only():
    web = services()["web"]
    words = command_words(web)
    assert words[0] == "gunicorn"
    assert "p2pcommons.wsgi:application" in words
    assert "0.0.0.0:8000" in words
    assert [str(port) for port in web.get("expose", [])] == ["8000"]


def test_gunicorn_is_never_published_only_the_proxy_is():
    published = {name for name, service in services().items() if service.get("ports")}
    assert published == {"proxy"}


def test_the_proxy_is_caddy_with_the_config_from_the_repository_in_front_of_web():
    proxy = services()["proxy"]
    assert proxy["image"].startswith("caddy:2")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert CADDYFILE.is_file()
    assert depends_on(proxy).get("web") == "service_healthy"
    assert {str(port).rsplit(":", 1)[-1] for port in proxy["ports"]} == {"80", "443"}
    assert proxy["restart"] == "unless-stopped"


def test_the_proxy_sets_the_forwarded_proto_and_passes_requests_to_gunicorn():
    config = CADDYFILE.read_text()
    assert re.search(r"reverse_proxy\s+web:8000", config)
    assert re.search(r"header_up\s+X-Forwarded-Proto\s+\{scheme\}", config)


def test_the_proxy_refuses_bodies_just_above_the_upload_limit():
    """The app accepts uploads of 12 MB (REQUEST_MAX_UPLOAD_SIZE); the proxy refuses
    anything much bigger before gunicorn reads it."""
    size = environment(services()["proxy"])["MAX_BODY_SIZE"]
    assert re.search(r"max_size\s+\{\$MAX_BODY_SIZE:13MB\}", CADDYFILE.read_text())
    assert size == "13MB"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_app_counts_one_proxy_in_front(name):
    assert environment(services()[name])["NUM_PROXIES"] == "1"


def test_gunicorn_limits_request_lines_and_headers_in_compose_and_in_the_image():
    words = command_words(services()["web"])
    command = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "CMD"][-1]
    for option, value in (("--limit-request-line", "4094"), ("--limit-request-fields", "60")):
        assert words[words.index(option) + 1] == value
        assert f"{option} {value}" in command


def test_the_worker_runs_the_celery_worker_of_the_project():
    words = command_words(services()["worker"])
    assert words[:4] == ["celery", "-A", "p2pcommons", "worker"]


def test_beat_runs_celery_beat_with_the_locked_database_scheduler():
    """The database scheduler behind a lock (p2pcommons/beat.py): a second beat started by
    mistake stands by instead of sending every periodic task again."""
    words = command_words(services()["beat"])
    assert words[:4] == ["celery", "-A", "p2pcommons", "beat"]
    joined = " ".join(words)
    assert re.search(r"(--scheduler|-S)[ =]p2pcommons\.beat:LockedDatabaseScheduler", joined)


def test_migrate_applies_migrations_once_and_is_not_restarted():
    migrate = services()["migrate"]
    assert command_words(migrate)[-3:] == ["manage.py", "migrate", "--noinput"]
    assert str(migrate.get("restart", "no")) == "no"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_long_running_app_services_restart_unless_stopped(name):
    assert services()[name]["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_runs_the_production_settings(name):
    assert environment(services()[name])["DJANGO_SETTINGS_MODULE"] == PRODUCTION_SETTINGS


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_gets_the_variables_production_settings_require(name):
    env = environment(services()[name])
    for variable in REQUIRED_PRODUCTION_ENV:
        assert env.get(variable), f"{name} lacks {variable}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_the_secret_key_must_be_given_and_is_never_a_default(name):
    secret = environment(services()[name])["SECRET_KEY"]
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]*\}", secret), secret


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_talks_to_postgres_on_db_and_redis_on_redis(name):
    env = environment(services()[name])
    assert re.match(r"postgres(ql)?://[^@]+@db:5432/\w+$", env["DATABASE_URL"]), env["DATABASE_URL"]
    assert re.match(r"redis://redis:6379/\d+$", env["REDIS_URL"]), env["REDIS_URL"]


def test_the_database_url_matches_the_postgres_service_credentials():
    db_env = environment(services()["db"])
    url = environment(services()["web"])["DATABASE_URL"]
    user, name = db_env["POSTGRES_USER"], db_env["POSTGRES_DB"]
    assert url.startswith(f"postgres://{user}:")
    assert url.endswith(f"@db:5432/{name}")
    assert db_env["POSTGRES_PASSWORD"] in url


def test_ssl_redirect_is_configurable_and_email_must_be_given():
    env = environment(services()["web"])
    assert env["SECURE_SSL_REDIRECT"].startswith("${SECURE_SSL_REDIRECT:-")
    assert re.fullmatch(r"\$\{EMAIL_URL:\?[^}]*\}", env["EMAIL_URL"]), env["EMAIL_URL"]
    assert "consolemail" not in COMPOSE_FILE.read_text()


@pytest.mark.parametrize("name", ["web", "db", "redis"])
def test_it_gives_a_healthcheck_to(name):
    healthcheck = services()[name].get("healthcheck", {})
    assert not healthcheck.get("disable")
    assert healthcheck.get("test")


def test_the_web_healthcheck_asks_healthz():
    assert "/healthz/" in " ".join(services()["web"]["healthcheck"]["test"])


def test_db_is_postgres_16_checked_with_pg_isready():
    db = services()["db"]
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_redis_is_redis_7_checked_with_ping_and_persists_with_appendonly():
    redis = services()["redis"]
    assert redis["image"].startswith("redis:7")
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    assert "--appendonly" in command_words(redis)


@pytest.mark.parametrize(("name", "target"), [("db", "/var/lib/postgresql/data"), ("redis", "/data")])
def test_data_lives_on_named_volumes_declared_at_top_level(name, target):
    service = services()[name]
    declared = set(load_compose().get("volumes") or {})
    mounts = [v for v in service["volumes"] if isinstance(v, str) and v.split(":")[1] == target]
    assert mounts, f"{name} does not mount {target}"
    source = mounts[0].split(":", 1)[0]
    assert source in named_volume_sources(service)
    assert source in declared


@pytest.mark.parametrize("name", APP_SERVICES)
def test_uploaded_media_is_on_a_shared_named_volume(name):
    service = services()[name]
    assert environment(service)["MEDIA_ROOT"] == "/app/var/media"
    assert "media:/app/var/media" in service["volumes"]
    assert "media" in (load_compose().get("volumes") or {})


@pytest.mark.parametrize("name", APP_SERVICES)
def test_data_downloads_are_on_a_volume_the_worker_and_web_share(name):
    # The worker builds a member's zip, the web process serves it: one volume for both.
    service = services()[name]
    assert environment(service)["EXPORT_ROOT"] == "/app/var/exports"
    assert "exports:/app/var/exports" in service["volumes"]
    assert "exports" in (load_compose().get("volumes") or {})


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_a_healthy_db_and_redis(name):
    deps = depends_on(services()[name])
    assert deps.get("db") == "service_healthy"
    assert deps.get("redis") == "service_healthy"


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_app_services_start_after_migrations_completed(name):
    assert depends_on(services()[name]).get("migrate") == "service_completed_successfully"


def test_the_dockerfile_exists_and_is_based_on_python_3_11():
    assert DOCKERFILE.is_file()
    froms = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "FROM"]
    assert froms
    assert froms[0].startswith("python:3.11")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_app_service_builds_from_the_dockerfile(name):
    build = services()[name]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE


def test_the_image_runs_the_production_settings_as_a_non_root_user():
    instructions = dockerfile_instructions()
    envs = " ".join(arguments for keyword, arguments in instructions if keyword == "ENV")
    assert f"DJANGO_SETTINGS_MODULE={PRODUCTION_SETTINGS}" in envs
    assert "PYTHONUNBUFFERED=1" in envs
    users = [arguments for keyword, arguments in instructions if keyword == "USER"]
    assert users
    assert users[-1] not in {"root", "0"}


def test_the_dockerfile_collects_static_files_with_the_production_settings():
    instructions = dockerfile_instructions()
    index = next(i for i, (keyword, arguments) in enumerate(instructions) if "collectstatic" in arguments)
    keyword, arguments = instructions[index]
    assert keyword == "RUN"
    assert "--noinput" in arguments
    set_before = any(
        keyword == "ENV" and f"DJANGO_SETTINGS_MODULE={PRODUCTION_SETTINGS}" in arguments
        for keyword, arguments in instructions[:index]
    )
    assert PRODUCTION_SETTINGS in arguments or set_before


def test_the_image_serves_gunicorn_on_8000_and_checks_its_health():
    instructions = dockerfile_instructions()
    keywords = {keyword for keyword, _ in instructions}
    assert {"EXPOSE", "HEALTHCHECK", "CMD"} <= keywords
    assert any(keyword == "EXPOSE" and "8000" in arguments.split() for keyword, arguments in instructions)
    healthcheck = next(arguments for keyword, arguments in instructions if keyword == "HEALTHCHECK")
    assert "urllib" in healthcheck
    assert "/healthz/" in healthcheck
    command = [arguments for keyword, arguments in instructions if keyword == "CMD"][-1]
    assert "gunicorn p2pcommons.wsgi:application" in command


def test_the_build_context_leaves_out_local_state():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if not line.startswith("#")}
    for entry in (".venv", "var", ".git", ".pytest_cache", ".ruff_cache"):
        assert entry in ignored
    assert {"db.sqlite3*", "**/__pycache__", "**/node_modules"} <= ignored
