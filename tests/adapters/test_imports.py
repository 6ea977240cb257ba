"""Importing proctor loads no agent framework; importing one adapter loads no other framework."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

FRAMEWORKS = {
    "openai_agents": ("agents",),
    "langchain": ("langchain", "langgraph", "langchain_core"),
    "langgraph": ("langgraph", "langchain_core"),
    "pydantic_ai": ("pydantic_ai",),
    "llama_index": ("llama_index",),
    "autogen": ("autogen_core",),
    "smolagents": ("smolagents",),
    "claude_agent_sdk": ("claude_agent_sdk",),
    "google_adk": ("google",),
    # installed in the adapters' second environment only
    "crewai": ("crewai",),
    "strands": ("strands",),
}
EVERY = sorted(
    {root for roots in FRAMEWORKS.values() for root in roots}
    | {
        "llama_index",
        "autogen_agentchat",
        "smolagents",
        "crewai",
        "strands",
        "claude_agent_sdk",
        "google",
    }
)


def _loaded(imports: str) -> set[str]:
    code = (
        f"import sys\n{imports}\n"
        f"print('\\n'.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({EVERY!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_proctor_loads_no_framework() -> None:
    assert _loaded("import proctor, proctor.adapters") - {"google"} == set()


@pytest.mark.parametrize("adapter", sorted(FRAMEWORKS))
def test_an_adapter_loads_its_framework_only(adapter: str) -> None:
    if importlib.util.find_spec(FRAMEWORKS[adapter][0]) is None:
        pytest.skip(f"`{adapter}` is tested in the adapters' second environment")
    loaded = _loaded(f"import proctor.adapters.{adapter}")
    assert loaded - {"google"} <= set(FRAMEWORKS[adapter])
