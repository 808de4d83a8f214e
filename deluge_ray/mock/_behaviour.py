"""What the mock "model" says: deterministic default replies, scripted replies, token usage.

Every wire format is parsed into a :class:`RequestView` (provider-neutral), a reply is
chosen for it, and the reply is turned into a :class:`Generated` answer with usage.

Usage agrees with the client's own estimate (``Conversation.count_tokens``):
input tokens = Σ ``count_text_tokens`` over every text piece (system text, text parts,
thinking, tool-call name + JSON arguments, tool-result text/JSON, each tool definition's
JSON) + 4 per message (system included) + 85 per image. Output tokens are the count of
the generated text (thinking and tool calls included), capped at the request's max tokens.

Scripted replies (see :class:`Reply`) let tests drive agent loops and structured output:

    >>> book = ScriptBook()
    >>> book.add("m", [Reply.tool_call("add", {"a": 1}), "done"])
    >>> view = RequestView(api="openai_chat", model="m", messages=[ViewMessage("user", "hi")])
    >>> generate(view, book.next_reply(view)).tool_calls[0].name
    'add'
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .._constants import DEFAULT_IMAGE_TOKENS
from .._tokens import count_text_tokens
from ..errors import ConfigurationError
from ._schema_instance import schema_instance
from ._tool_use import chosen_tool_call

__all__ = [
    "Generated",
    "GeneratedToolCall",
    "Reply",
    "RequestView",
    "ScriptBook",
    "TokenTally",
    "ToolCallReply",
    "ViewMessage",
    "generate",
]

PER_MESSAGE_TOKENS = 4


def json_text(value: Any) -> str:
    """JSON text as the client serialises dict arguments and results (non-ASCII kept)."""
    return json.dumps(value, ensure_ascii=False)


class TokenTally:
    """Accumulates the input-token formula while a wire format is parsed."""

    __slots__ = ("images", "messages", "model", "tokens")

    def __init__(self, model: str | None) -> None:
        self.model = model
        self.tokens = 0
        self.messages = 0
        self.images = 0

    def text(self, value: str | None) -> None:
        if value:
            # No model argument: the client's Conversation.count_tokens counts the same way.
            self.tokens += count_text_tokens(value)

    def json(self, value: Any) -> None:
        self.text(value if isinstance(value, str) else json_text(value))

    def message(self) -> None:
        self.messages += 1

    def image(self) -> None:
        self.images += 1

    @property
    def total(self) -> int:
        return self.tokens + PER_MESSAGE_TOKENS * self.messages + DEFAULT_IMAGE_TOKENS * self.images


@dataclass
class ViewMessage:
    """One message of the request: role, joined text, tool calls and tool results."""

    role: str
    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class RequestView:
    """A provider-neutral view of one generation request, handed to scripted callables.

    ``api`` is ``"openai_chat"``, ``"openai_responses"``, ``"anthropic"`` or ``"gemini"``;
    ``tools`` holds the names of the tools offered and ``tool_specs`` their ``description``
    and ``parameters`` schema by name; ``tool_choice`` is ``None``/``"auto"``, ``"none"``,
    ``"required"`` or one tool's name; ``response_schema`` the JSON schema the reply must
    satisfy (``{}`` for plain JSON mode) or ``None``; ``body`` the raw request.
    """

    api: str
    model: str
    messages: list[ViewMessage] = field(default_factory=list)
    system: str | None = None
    tools: list[str] = field(default_factory=list)
    response_schema: dict[str, Any] | None = None
    max_tokens: int | None = None
    input_tokens: int = 0
    stream: bool = False
    body: dict[str, Any] = field(default_factory=dict)
    tool_specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tool_choice: str | None = None

    @property
    def last_user_text(self) -> str:
        """Text of the last message with role user (``""`` when none)."""
        for message in reversed(self.messages):
            if message.role == "user" and message.text:
                return message.text
        return ""

    @property
    def has_tool_result(self) -> bool:
        """True when the last message carries tool results (an agent loop's second turn)."""
        return bool(self.messages and self.messages[-1].tool_results)

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """Every tool result in the request, oldest first."""
        return [r for m in self.messages for r in m.tool_results]


@dataclass(frozen=True)
class ToolCallReply:
    """A tool call the mock model makes: name and arguments (``id`` generated when omitted)."""

    name: str
    arguments: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """A scripted reply. Build one with the class methods:

    ``Reply.text("hi")``, ``Reply.tool_call("get_weather", {"city": "Paris"})``,
    ``Reply.tool_calls([...])``, ``Reply.thinking("let me see", "answer")`` and
    ``Reply.json()`` (a plausible object valid against the request's response schema).
    A script entry may also be a plain ``str`` (text) or a callable
    ``(RequestView) -> Reply | str`` for rules such as "call a tool first, answer once a
    tool result is present".
    """

    content: str | None = None
    calls: tuple[ToolCallReply, ...] = ()
    thought: str | None = None
    from_schema: bool = False

    @classmethod
    def text(cls, text: str) -> Reply:
        return cls(content=text)

    @classmethod
    def tool_call(cls, name: str, arguments: dict[str, Any], *, id: str | None = None) -> Reply:
        return cls(calls=(ToolCallReply(name, dict(arguments), id),))

    @classmethod
    def tool_calls(cls, calls: Iterable[ToolCallReply | tuple[str, dict[str, Any]]]) -> Reply:
        built = tuple(c if isinstance(c, ToolCallReply) else ToolCallReply(*c) for c in calls)
        return cls(calls=built)

    @classmethod
    def thinking(cls, thought: str, text: str) -> Reply:
        return cls(content=text, thought=thought)

    @classmethod
    def json(cls) -> Reply:
        return cls(from_schema=True)


ScriptEntry = Reply | str | Callable[[RequestView], Reply | str]


class ScriptBook:
    """Scripted replies per model name (``"*"`` matches every model).

    A list is served in order, one entry per request; once it is used up the model falls
    back to its default reply. A single callable is consulted for every request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[ScriptEntry]] = {}
        self._rules: dict[str, Callable[[RequestView], Reply | str]] = {}

    def add(self, model: str, replies: ScriptEntry | Iterable[ScriptEntry]) -> None:
        with self._lock:
            if callable(replies) and not isinstance(replies, Reply):
                self._rules[model] = replies
                return
            if isinstance(replies, (Reply, str)):
                replies = [replies]
            entries = list(replies)
            for index, entry in enumerate(entries):
                if not (isinstance(entry, (Reply, str)) or callable(entry)):
                    raise ConfigurationError(
                        f"Scripted reply {index} for model {model!r} is a "
                        f"{type(entry).__name__}; use a Reply, a str or a callable."
                    )
            self._queues.setdefault(model, deque()).extend(entries)

    def clear(self, model: str | None = None) -> None:
        with self._lock:
            if model is None:
                self._queues.clear()
                self._rules.clear()
            else:
                self._queues.pop(model, None)
                self._rules.pop(model, None)

    def next_reply(self, view: RequestView) -> Reply | None:
        """The scripted reply for this request, or ``None`` for the default behaviour."""
        entry: ScriptEntry | None = None
        with self._lock:
            for name in (view.model, "*"):
                queue = self._queues.get(name)
                if queue:
                    entry = queue.popleft()
                    break
                if name in self._rules:
                    entry = self._rules[name]
                    break
        if entry is None:
            return None
        if callable(entry) and not isinstance(entry, Reply):
            entry = entry(view)
        return Reply.text(entry) if isinstance(entry, str) else entry


@dataclass(frozen=True)
class GeneratedToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as every wire format but Anthropic/Gemini carries it


@dataclass(frozen=True)
class Generated:
    """The answer the mock sends: text, thinking, tool calls, usage and finish reason.

    ``finish`` is ``"stop"``, ``"length"`` (capped at max tokens) or ``"tool_calls"``.
    """

    text: str
    thinking: str | None
    tool_calls: tuple[GeneratedToolCall, ...]
    input_tokens: int
    output_tokens: int
    finish: str

    @property
    def reasoning_tokens(self) -> int:
        """The part of ``output_tokens`` spent on thinking (reported where providers do)."""
        return count_text_tokens(self.thinking) if self.thinking else 0


def default_text(view: RequestView) -> str:
    """The deterministic default reply: an echo of the prompt's last user turn."""
    if view.has_tool_result:
        results = view.messages[-1].tool_results
        shown = "; ".join(str(r.get("content", ""))[:120] for r in results)
        return f"Mock answer using {len(results)} tool result(s): {shown}"
    prompt = view.last_user_text
    return f"Mock reply to: {prompt[:400]}" if prompt else "Mock reply."


def default_reply(view: RequestView) -> Reply:
    """What the mock says unscripted: call a tool the question asks for (see ``_tool_use``),
    else a JSON value for the response schema, else an echo of the question."""
    call = chosen_tool_call(view)
    if call is not None:
        return Reply.tool_call(*call)
    if view.response_schema is not None:
        return Reply.json()
    return Reply.text(default_text(view))


def generate(view: RequestView, reply: Reply | None) -> Generated:
    """Turn the chosen reply (``None`` = default) into the full answer with usage."""
    if reply is None:
        reply = default_reply(view)
    text = reply.content or ""
    if reply.from_schema:
        text = json.dumps(schema_instance(view.response_schema or {}), ensure_ascii=False)
    thinking = reply.thought
    calls = tuple(
        GeneratedToolCall(c.id or _call_id(view, i, c.name), c.name, json_text(c.arguments))
        for i, c in enumerate(reply.calls)
    )
    model = None  # count as the client's estimate does (see TokenTally.text)
    used = (
        count_text_tokens(thinking or "", model)
        + count_text_tokens(text, model)
        + sum(count_text_tokens(c.name + c.arguments, model) for c in calls)
    )
    finish = "tool_calls" if calls else "stop"
    cap = view.max_tokens
    if cap is not None and used > cap:
        # Capped: tool calls cannot be cut in half, so they go; thinking, then text, fill the cap.
        budget = cap
        if thinking:
            thinking = truncate_to_tokens(thinking, budget, model)
            budget -= count_text_tokens(thinking, model)
        text = truncate_to_tokens(text, max(budget, 0), model)
        calls = ()
        finish = "length"
        used = count_text_tokens(thinking or "", model) + count_text_tokens(text, model)
    return Generated(text, thinking, calls, view.input_tokens, used, finish)


def truncate_to_tokens(text: str, max_tokens: int, model: str | None = None) -> str:
    """The longest prefix of ``text`` whose token count is at most ``max_tokens``."""
    if count_text_tokens(text, model) <= max_tokens:
        return text
    low, high = 0, len(text)
    while low < high:  # binary search on the character length
        mid = (low + high + 1) // 2
        if count_text_tokens(text[:mid], model) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return text[:low]


def _call_id(view: RequestView, index: int, name: str) -> str:
    # Deterministic per conversation position, so replays of a test produce the same ids.
    seed = f"{view.model}|{len(view.messages)}|{index}|{name}|{view.last_user_text}"
    return "call_" + hashlib.sha256(seed.encode()).hexdigest()[:20]


def split_for_stream(text: str, pieces: int = 8) -> list[str]:
    """Split ``text`` into about ``pieces`` word-aligned chunks for streaming deltas."""
    if not text:
        return []
    words = text.split(" ")
    step = max(1, len(words) // pieces)
    chunks = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
    return [c + " " if i < len(chunks) - 1 else c for i, c in enumerate(chunks)]
