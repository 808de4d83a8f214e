"""Constants shared across deluge_ray, kept in one place so they are easy to find and tune."""

from __future__ import annotations

# Every named actor lives in this Ray namespace. Without an explicit namespace Ray gives
# each driver its own anonymous one, and get_if_exists would silently create duplicates.
RAY_NAMESPACE = "deluge_ray"

# Environment variables that point a provider family at another server (the mock, vLLM, ...).
BASE_URL_ENV_VARS: dict[str, str] = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GEMINI_BASE_URL",
    "cohere": "COHERE_BASE_URL",
}

DEFAULT_BASE_URLS: dict[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com/v1",
    "gemini": "https://generativelanguage.googleapis.com/v1beta",
    "cohere": "https://api.cohere.com/v1",
}

API_KEY_ENV_VARS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "cohere": "COHERE_API_KEY",
}

ANTHROPIC_VERSION = "2023-06-01"

# Rough token count charged per image when nothing better is known (OpenAI's low-detail cost).
DEFAULT_IMAGE_TOKENS = 85

# When tiktoken's encoding files cannot be loaded we estimate one token per this many characters.
FALLBACK_CHARS_PER_TOKEN = 4.0
