"""Package names that load on first use (PEP 562): same objects, same errors, cheap imports."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import proctor
from proctor._lazy import exported_names

LAZY_PACKAGES = ("proctor", "proctor.sdk", "proctor.runtime", "proctor.scanners", "proctor.policy")
# names `proctor/__init__.py` holds itself (its functions; the root error, which everything imports)
OWN_NAMES = {"ProctorError", "check", "configure", "run", "session"}
# `import proctor` must not pay for any of these (the SDK's HTTP client, JOSE, scanners...)
IMPORT_FORBIDDEN = (
    "httpx",
    "jwt",
    "cryptography",
    "phonenumbers",
    "re2",
    "pydantic",
    "yaml",
    "rich",
    "click",
    "starlette",
    "opentelemetry",
    "mcp",
    "psycopg",
)
IMPORT_MODULE_LIMIT = 150


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_public_name_is_in_the_table_and_resolves_to_its_module(name: str) -> None:
    package = importlib.import_module(name)
    table = exported_names(package._EXPORTS)
    public = set(package.__all__) - (OWN_NAMES if name == "proctor" else set())
    assert public <= set(table), public - set(table)
    for attribute, module in table.items():
        assert getattr(package, attribute) is getattr(importlib.import_module(module), attribute)
        assert attribute in dir(package)


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_an_unknown_name_is_an_attribute_error(name: str) -> None:
    package = importlib.import_module(name)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        package.Nope  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {name} import Nope", {})


def test_the_quick_use_names_work_from_the_package() -> None:
    decision = proctor.Decision(proctor.Effect.ALLOW, "ok")
    assert decision.allowed
    assert proctor.Proctor.__module__ == "proctor.sdk.client"
    assert proctor.scan("mail bob@corp.io").findings


def test_import_proctor_loads_neither_the_sdk_nor_its_libraries() -> None:
    code = (
        "import json, sys, proctor;"
        "print(json.dumps(sorted(sys.modules)));"
        "proctor.Proctor;"
        "print('proctor.sdk.client' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    modules = set(json.loads(out[0]))
    assert len(modules) <= IMPORT_MODULE_LIMIT, len(modules)
    heavy = [p for p in IMPORT_FORBIDDEN if any(m.split(".")[0] == p for m in modules)]
    assert heavy == []
    assert not {m for m in modules if m.startswith("proctor.sdk")}
    assert out[1] == "True"  # and the first use of a name loads it


def test_the_gateway_client_loads_no_compiler_scanners_or_config_models() -> None:
    code = (
        "import json, sys;"
        "from proctor import ActionDenied, ProctorClient, governed_tool;"
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    modules = set(json.loads(out))
    assert "httpx" in modules
    unneeded = ("proctor.policy", "proctor.scanners", "proctor.config", "pydantic", "yaml", "jwt")
    assert [p for p in unneeded if any(m == p or m.startswith(p + ".") for m in modules)] == []
