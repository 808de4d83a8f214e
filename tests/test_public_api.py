"""The top-level public API is deliberate: this list changes only on purpose."""

from __future__ import annotations

import importlib

import pytest

import deluge_ray

EXPECTED = {
    "AgentLoopCallback",
    "APIModel",
    "APIResponse",
    "CacheError",
    "ConfigurationError",
    "Conversation",
    "DelugeError",
    "File",
    "Image",
    "LLMClient",
    "MCPServer",
    "Message",
    "MissingAPIKeyError",
    "PromptError",
    "ProviderError",
    "RuntimeUnavailableError",
    "SamplingParams",
    "StatusTracker",
    "TextDeltaEvent",
    "Tool",
    "ToolError",
    "UnknownModelError",
    "Usage",
    "__version__",
    "execute_tool_calls",
    "get_model",
    "prompts_to_conversations",
    "register_model",
}

# Where lm-deluge users import things from; these module paths must keep working.
LM_DELUGE_PATHS = {
    "deluge_ray.prompt": ["Conversation", "Message", "Image", "File"],
    "deluge_ray.config": ["SamplingParams"],
    "deluge_ray.tool": ["Tool", "MCPServer"],
    "deluge_ray.cache": ["SqliteCache", "LevelDBCache", "DistributedDictCache"],
    "deluge_ray.api_requests.response": ["APIResponse"],
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(deluge_ray.__all__) == EXPECTED
    assert len(deluge_ray.__all__) == len(set(deluge_ray.__all__)), "duplicates in __all__"


def test_every_public_name_resolves_and_is_documented() -> None:
    for name in deluge_ray.__all__:
        obj = getattr(deluge_ray, name)
        if name != "__version__":
            assert obj.__doc__, f"deluge_ray.{name} has no docstring"


def test_lm_deluge_import_paths_work() -> None:
    for module_name, names in LM_DELUGE_PATHS.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert hasattr(module, name), f"{module_name}.{name} is missing"


def test_public_exceptions_share_one_base() -> None:
    for name in deluge_ray.__all__:
        obj = getattr(deluge_ray, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, deluge_ray.DelugeError)


def test_importing_the_package_alone_loads_no_client_code() -> None:
    """Every Ray worker hosting one of our actors imports ``deluge_ray`` first: the public
    names load on first use, so an actor's start does not pay for the client API."""
    import subprocess
    import sys

    probe = (
        "import sys, deluge_ray; "
        "print(sorted(m for m in ('aiohttp', 'pydantic', 'deluge_ray.client') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_lazy_names_and_subpackages_resolve_and_unknown_names_fail_clearly() -> None:
    assert set(deluge_ray._HOMES) | {"__version__"} == set(deluge_ray.__all__)
    assert deluge_ray.LLMClient is importlib.import_module("deluge_ray.client").LLMClient
    assert deluge_ray.tool.Tool is deluge_ray.Tool  # a subpackage, as an attribute
    assert set(deluge_ray.__all__) <= set(dir(deluge_ray))
    with pytest.raises(AttributeError, match="NoSuchThing"):
        deluge_ray.NoSuchThing  # noqa: B018
