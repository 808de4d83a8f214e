"""JSON-safe logs of parts and messages, and the canonical form behind fingerprints.

The log form keeps everything (image and file bytes as base64) so ``from_log(to_log())``
is exact. The canonical form is the log form with binary content replaced by its
fingerprint, hashed with sorted keys; equal content gives equal fingerprints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from ..errors import PromptError
from ._file import File
from ._image import Image
from ._parts import Part, Text, Thinking, ToolCall, ToolResult, json_safe
from ._signatures import ThoughtSignature, normalize_signature

__all__ = ["canonical_part", "part_from_log", "part_to_log", "sha256_json"]


def sha256_json(value: Any) -> str:
    """sha256 hex of ``value`` as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def part_to_log(part: Part) -> dict[str, Any]:
    """A JSON-safe dict that :func:`part_from_log` turns back into an equal part."""
    if isinstance(part, Text):
        if part.thought_signature is not None:
            return {
                "type": "text",
                "text": part.text,
                "thought_signature": _signature_log(part.thought_signature),
            }
        return {"type": "text", "text": part.text}
    if isinstance(part, Image):
        out: dict[str, Any] = {
            "type": "image",
            "media_type": part.media_type,
            "detail": part.detail,
        }
        if isinstance(part.data, str):
            out["url"] = part.data
        else:
            out["data"] = _b64(part.data)
        return out
    if isinstance(part, File):
        out = {
            "type": "file",
            "media_type": part.media_type,
            "filename": part.filename,
            "file_id": part.file_id,
            "provider": part.provider,
        }
        if isinstance(part.data, str):
            out["url"] = part.data
        elif isinstance(part.data, bytes):
            out["data"] = _b64(part.data)
        return out
    if isinstance(part, ToolCall):
        out = {
            "type": "tool_call",
            "id": part.id,
            "name": part.name,
            "arguments": json_safe(part.arguments),
        }
        if part.raw is not None:
            out["raw"] = part.raw
        if part.thought_signature is not None:
            out["thought_signature"] = _signature_log(part.thought_signature)
        return out
    if isinstance(part, ToolResult):
        out = {"type": "tool_result", "tool_call_id": part.tool_call_id}
        if part.is_parts:
            out["parts"] = [part_to_log(p) for p in part.result]  # type: ignore[union-attr]
        else:
            out["result"] = json_safe(part.result)
        return out
    if isinstance(part, Thinking):
        return {
            "type": "thinking",
            "content": part.content,
            "signature": part.signature,
            "raw": part.raw,
        }
    raise PromptError(f"Cannot serialise part of type {type(part).__name__}.")


def _signature_log(signature: ThoughtSignature) -> dict[str, Any]:
    return {"value": signature.value, "provider": signature.provider}


def _signature_from_log(item: Any) -> ThoughtSignature | None:
    # 0.0.168 logs may hold the bare string; ours hold value and provider.
    if item is None or isinstance(item, str):
        return normalize_signature(item)
    if isinstance(item, dict) and isinstance(item.get("value"), str):
        return ThoughtSignature(item["value"], item.get("provider"))
    raise PromptError(f"Logged thought_signature must be a str or a dict, got {item!r:.80}.")


def _decode(value: Any, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PromptError(f"Log {where} has invalid base64 data: {exc}.") from exc


def part_from_log(item: Any) -> Part:
    """Rebuild a part from :func:`part_to_log` output; malformed items raise PromptError."""
    if not isinstance(item, dict) or "type" not in item:
        raise PromptError(f"Log part must be a dict with a 'type', got {item!r:.80}.")
    kind = item["type"]
    try:
        if kind == "text":
            return Text(item["text"], _signature_from_log(item.get("thought_signature")))
        if kind == "image":
            data = item["url"] if "url" in item else _decode(item["data"], "image")
            return Image(data, media_type=item.get("media_type"), detail=item.get("detail", "auto"))
        if kind == "file":
            if "url" in item:
                data: Any = item["url"]
            elif "data" in item:
                data = _decode(item["data"], "file")
            else:
                data = None
            return File(
                data,
                media_type=item.get("media_type"),
                filename=item.get("filename"),
                file_id=item.get("file_id"),
                provider=item.get("provider"),
            )
        if kind == "tool_call":
            return ToolCall(
                item["id"],
                item["name"],
                item.get("arguments") or {},
                item.get("raw"),
                thought_signature=_signature_from_log(item.get("thought_signature")),
            )
        if kind == "tool_result":
            if "parts" in item:
                return ToolResult(item["tool_call_id"], [part_from_log(p) for p in item["parts"]])
            return ToolResult(item["tool_call_id"], item["result"])
        if kind == "thinking":
            return Thinking(item["content"], item.get("signature"), item.get("raw"))
    except KeyError as exc:
        raise PromptError(f"Log part of type {kind!r} is missing key {exc}.") from None
    raise PromptError(
        f"Unknown log part type {kind!r}; expected text, image, file, tool_call, "
        "tool_result or thinking."
    )


def canonical_part(part: Part) -> dict[str, Any]:
    """The log form with image/file bytes replaced by their fingerprints."""
    if isinstance(part, Image):
        return {"type": "image", "fingerprint": part.fingerprint, "detail": part.detail}
    if isinstance(part, File):
        return {
            "type": "file",
            "fingerprint": part.fingerprint,
            "media_type": part.media_type,
            "filename": part.filename,
        }
    if isinstance(part, ToolResult) and part.is_parts:
        parts = [canonical_part(p) for p in part.result]  # type: ignore[union-attr]
        return {"type": "tool_result", "tool_call_id": part.tool_call_id, "parts": parts}
    return part_to_log(part)
