"""The generated per-provider tables (see tests/compat/generate_registry.py)."""

from __future__ import annotations

from . import (
    _gen_anthropic,
    _gen_arcee,
    _gen_cerebras,
    _gen_cohere,
    _gen_deepseek,
    _gen_fireworks,
    _gen_gemini,
    _gen_groq,
    _gen_inception,
    _gen_kimi,
    _gen_meta,
    _gen_minimax,
    _gen_mistral,
    _gen_nvidia,
    _gen_openai,
    _gen_openrouter,
    _gen_perceptron,
    _gen_together,
    _gen_xai,
    _gen_zai,
)

#: (deluge_ray provider name, generated module) for every provider.
GENERATED = [
    ("anthropic", _gen_anthropic),
    ("arcee", _gen_arcee),
    ("cerebras", _gen_cerebras),
    ("cohere", _gen_cohere),
    ("deepseek", _gen_deepseek),
    ("fireworks", _gen_fireworks),
    ("gemini", _gen_gemini),
    ("groq", _gen_groq),
    ("inception", _gen_inception),
    ("kimi", _gen_kimi),
    ("meta", _gen_meta),
    ("minimax", _gen_minimax),
    ("mistral", _gen_mistral),
    ("nvidia", _gen_nvidia),
    ("openai", _gen_openai),
    ("openrouter", _gen_openrouter),
    ("perceptron", _gen_perceptron),
    ("together", _gen_together),
    ("xai", _gen_xai),
    ("zai", _gen_zai),
]
