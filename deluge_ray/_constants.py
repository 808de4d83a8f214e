"""Constants shared across deluge_ray, kept in one place so they are easy to find and tune."""

from __future__ import annotations

# Every named actor lives in this Ray namespace. Without an explicit namespace Ray gives
# each driver its own anonymous one, and get_if_exists would silently create duplicates.
RAY_NAMESPACE = "deluge_ray"

# Environment variables that point a provider family at another server (the mock, vLLM, ...).
# Each is read the way the provider's own SDK reads it, so one value serves both: the
# openai SDK's OPENAI_BASE_URL includes /v1; the anthropic SDK's ANTHROPIC_BASE_URL is the
# host, the SDK adds /v1 (deluge_ray also accepts it with /v1). GEMINI_BASE_URL is ours
# (with /v1beta; a bare host gets it added), COHERE_BASE_URL likewise with /v1.
BASE_URL_ENV_VARS: dict[str, str] = {
    "openai": "OPENAI_BASE_URL",
    "anthropic": "ANTHROPIC_BASE_URL",
    "gemini": "GEMINI_BASE_URL",
    "cohere": "COHERE_BASE_URL",
}

# The variables the providers' SDKs read where theirs differ from ours (google-genai's
# GOOGLE_GEMINI_BASE_URL, cohere's CO_API_URL), consulted when ours is unset. Both hold the
# host only: the SDKs add the API version.
SDK_BASE_URL_ENV_VARS: dict[str, str] = {
    "gemini": "GOOGLE_GEMINI_BASE_URL",
    "cohere": "CO_API_URL",
}

# The API-version path each provider's endpoints live under, added to an override that is
# a bare host. For ANTHROPIC_BASE_URL, GOOGLE_GEMINI_BASE_URL and CO_API_URL it is added
# unless the URL already ends in a version (the SDKs' convention: host, no version).
API_VERSION_PATHS: dict[str, str] = {
    "openai": "/v1",
    "anthropic": "/v1",
    "gemini": "/v1beta",
    "cohere": "/v1",
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
