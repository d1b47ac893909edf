"""A Python client generated from the live OpenAPI schema, the way a mobile team makes
theirs (openapi-python-client, pinned in the dev extra), importable by the tests.

``generate_client(directory)`` writes the schema (``manage.py spectacular``, validated,
failing on any warning), runs the generator on it and puts the package ``p2p_client``
on ``sys.path``. The ``generated_client`` fixture (``tests/api/conftest.py``) does it once
per test session. Journeys call the API through its functions only:

    from p2p_client.api.me import me_retrieve
    me = me_retrieve.sync(client=generated_client.signed_in(live_server.url, owner))
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
from django.core.management import call_command

from apps.peers.factories import DEFAULT_PASSWORD

PACKAGE = "p2p_client"
APP_LOGIN = "/_allauth/app/v1/auth/login"
# The generator's own post-generation hooks run ruff over the code; the tests import it as
# generated, so what they check is what any team gets.
CONFIG = "post_hooks: []\n"


@dataclass
class GeneratedClient:
    """The generated package, where it lives, and what the generator said."""

    directory: Path
    output: str
    returncode: int

    @property
    def package(self) -> ModuleType:
        return importlib.import_module(PACKAGE)

    def module_names(self) -> list[str]:
        """Every module of the package (its operations and models), by dotted name."""
        return [info.name for info in pkgutil.walk_packages(self.package.__path__, f"{PACKAGE}.")]

    def client(self, base_url: str, token: str | None = None):
        """A client of the API at ``base_url``, sending ``token`` as ``X-Session-Token``."""
        package = self.package
        if token is None:
            return package.Client(base_url=base_url, raise_on_unexpected_status=True)
        return package.AuthenticatedClient(
            base_url=base_url,
            token=token,
            prefix="",
            auth_header_name="X-Session-Token",
            raise_on_unexpected_status=True,
        )

    def signed_in(self, base_url: str, user, password: str = DEFAULT_PASSWORD):
        """A client signed in as ``user`` through allauth's app login, as an app does."""
        return self.client(base_url, app_login(base_url, user.email, password))


def app_login(base_url: str, email: str, password: str) -> str:
    """The session token of ``POST /_allauth/app/v1/auth/login`` (allauth's own API, with
    its own OpenAPI document at /_allauth/openapi.json, so not in our generated client)."""
    response = httpx.post(f"{base_url}{APP_LOGIN}", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    return response.json()["meta"]["session_token"]


def generate_client(directory: Path) -> GeneratedClient:
    """Write the live schema into ``directory``, generate ``p2p_client`` from it there, and
    make it importable (``forget_client`` undoes that)."""
    schema = directory / "openapi.yaml"
    call_command("spectacular", "--file", str(schema), "--validate", "--fail-on-warn")
    config = directory / "generator.yaml"
    config.write_text(CONFIG)
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(schema)]
    command += ["--output-path", str(directory / PACKAGE), "--meta", "none", "--config", str(config)]
    command += ["--fail-on-warning"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    sys.path.insert(0, str(directory))
    importlib.invalidate_caches()
    return GeneratedClient(directory=directory, output=result.stdout + result.stderr, returncode=result.returncode)


def forget_client(generated: GeneratedClient) -> None:
    """Take the package off ``sys.path`` and out of ``sys.modules``."""
    if str(generated.directory) in sys.path:
        sys.path.remove(str(generated.directory))
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]
