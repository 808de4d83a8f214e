"""Write deluge_ray's model tables from lm-deluge 0.0.168's registry (run by hand, once).

    python tests/compat/generate_registry.py

Writes ``deluge_ray/models/_gen_<provider>.py``: plain data (wire names, wire format, key
variable, base URL, prices, capability flags and aliases), so the package never imports
lm_deluge. ``tests/compat/test_registry.py`` checks the result against the oracle. Which
entries are in scope, and the provider renames, are defined here and imported by the test.
"""

from __future__ import annotations

import pprint
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "deluge_ray" / "models"

#: Wire formats deluge_ray speaks. Mistral's chat API and NVIDIA's are OpenAI chat
#: completions at their own base URLs, so they are sent as ``openai``.
SPEC_MAP = {"openai": "openai", "anthropic": "anthropic", "gemini": "gemini"}
SPEC_MAP.update({"mistral": "openai", "nvidia": "openai"})
#: Providers left out, and why.
OUT_OF_SCOPE_PROVIDERS = {
    "bedrock": "AWS SigV4 request signing",
    "azure": "per-resource Azure endpoints and api-version query",
    "cloudflare": "account-specific Workers AI endpoints",
    "moondream": "its own vision API, not a chat format",
}
#: 0.0.168 calls Google's provider "google"; deluge_ray has always called it "gemini".
PROVIDER_NAMES = {"google": "gemini"}

PRICES = ("input_cost", "cached_input_cost", "cache_write_cost", "output_cost")
FLAGS = (
    "supports_json",
    "supports_images",
    "supports_logprobs",
    "supports_responses",
    "reasoning_model",
    "supports_minimal_reasoning",
    "supports_xhigh",
    "supports_max_reasoning",
    "supports_reasoning_none",
    "supports_verbosity",
    "omit_default_sampling_params",
    "omit_default_reasoning_effort",
    "stateless_responses",
    "requires_stateless_responses",
)


def in_scope(model) -> bool:
    """Whether a 0.0.168 registry entry belongs in deluge_ray's registry."""
    return model.api_spec in SPEC_MAP and model.provider not in OUT_OF_SCOPE_PROVIDERS


def _row(model) -> dict:
    row = {
        "name": model.name,
        "api_spec": SPEC_MAP[model.api_spec],
        "api_key_env_var": model.api_key_env_var,
        "base_url": model.api_base.rstrip("/"),
    }
    for price in PRICES:
        row[price] = float(getattr(model, price) or 0.0)
    for flag in FLAGS:
        # deluge_ray's APIModel defaults these two to True, 0.0.168's to False: always
        # write them; the others default to False on both sides.
        if getattr(model, flag) or flag in ("supports_json", "supports_images"):
            row[flag] = bool(getattr(model, flag))
    if model.api_key_env_var_fallbacks:
        row["api_key_env_var_fallbacks"] = tuple(model.api_key_env_var_fallbacks)
    if _takes_output_effort(model):
        row["supports_effort"] = True
    style = _thinking_style(model)
    if style != "budget":
        row["thinking_style"] = style
    return row


def _thinking_style(model) -> str:
    """How 0.0.168 asks this Claude model to think (see ``APIModel.thinking_style``)."""
    from lm_deluge.api_requests import anthropic as claude

    if model.api_spec != "anthropic" or not claude._is_claude_46_or_newer(model):
        return "budget"
    if claude._is_claude_47(model):
        return "adaptive_summarized"
    if claude._removes_manual_thinking_budget(model):
        return "adaptive_only"
    return "adaptive"


def _takes_output_effort(model) -> bool:
    """Whether 0.0.168 sends Anthropic's ``output_config.effort`` to this model."""
    from lm_deluge.api_requests.anthropic import _supports_ga_effort

    return model.api_spec == "anthropic" and _supports_ga_effort(model)


def _module_text(provider: str, models: dict, aliases: dict) -> str:
    head = (
        f'"""{provider}: models of lm-deluge 0.0.168\'s registry (generated; do not edit).\n\n'
        "Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD\n"
        'per million tokens. ``ALIASES`` maps another name to its model id.\n"""\n\n'
        "from __future__ import annotations\n\n"
        "from typing import Any\n\n"
    )
    body = "MODELS: dict[str, dict[str, Any]] = " + pprint.pformat(
        models, width=96, sort_dicts=False
    )
    body += "\n\nALIASES: dict[str, str] = " + pprint.pformat(aliases, width=96) + "\n"
    return head + body


def main() -> None:
    from lm_deluge.models import registry

    by_provider: dict[str, tuple[dict, dict]] = {}
    for key, model in registry.items():
        if not in_scope(model):
            continue
        provider = PROVIDER_NAMES.get(model.provider, model.provider)
        models, aliases = by_provider.setdefault(provider, ({}, {}))
        if key == model.id:
            models[key] = _row(model)
        else:
            aliases[key] = model.id
    written = []
    for provider, (models, aliases) in sorted(by_provider.items()):
        path = OUT / f"_gen_{provider}.py"
        path.write_text(_module_text(provider, models, aliases))
        written.append(path)
    subprocess.run(["ruff", "format", "-q", *map(str, written)], check=True)
    index = OUT / "_gen_index.py"
    names = [p.stem for p in written]
    index.write_text(
        '"""The generated per-provider tables (see tests/compat/generate_registry.py)."""\n\n'
        "from __future__ import annotations\n\n"
        + "".join(f"from . import {n}\n" for n in names)
        + "\n#: (deluge_ray provider name, generated module) for every provider.\n"
        + "GENERATED = [\n"
        + "".join(f'    ("{n[len("_gen_") :]}", {n}),\n' for n in names)
        + "]\n"
    )
    print(f"wrote {len(written)} provider tables", file=sys.stderr)


if __name__ == "__main__":
    main()
