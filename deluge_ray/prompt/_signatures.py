"""Provider-tagged reasoning signatures (lm-deluge 0.0.168's ``ThoughtSignature``).

A signature is opaque replay data a provider hands back with its reasoning (Anthropic's
thinking ``signature``, Gemini's ``thoughtSignature``). Tagging it with the provider that
issued it lets a conversation replayed to a *different* provider leave it out, since a
provider rejects signatures it did not issue.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ThoughtSignature", "normalize_signature"]


@dataclass(frozen=True)
class ThoughtSignature:
    """``value`` issued by ``provider`` (``None`` when the issuer is unknown).

    >>> ThoughtSignature("sig", "anthropic").for_provider("gemini") is None
    True
    """

    value: str
    provider: str | None = None

    def for_provider(self, provider: str) -> str | None:
        """The value if ``provider`` may receive it (it issued it, or the issuer is unknown)."""
        if self.provider is None or self.provider == provider:
            return self.value
        return None


def normalize_signature(
    signature: ThoughtSignature | str | None, *, provider: str | None = None
) -> ThoughtSignature | None:
    """``signature`` as a :class:`ThoughtSignature`, tagged with ``provider`` if untagged."""
    if signature is None:
        return None
    if isinstance(signature, ThoughtSignature):
        if provider is not None and signature.provider is None:
            return ThoughtSignature(signature.value, provider)
        return signature
    return ThoughtSignature(str(signature), provider)
