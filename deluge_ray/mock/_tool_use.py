"""When the mock "model" calls a tool by default, which one, and with what arguments.

A real model offered ``get_weather`` and asked "What's the weather in Paris?" calls the tool
and answers once the result is back; the mock does the same, deterministically, so an
agent loop in a tour or a test ends with a tool result and a final answer:

- the request's ``tool_choice`` decides first (``none`` never calls; ``required`` or a named
  tool always calls);
- otherwise a tool is called when the last user turn shares a word with the tool's name or
  description (``weather`` in both), and the conversation does not end in a tool result;
- arguments follow the tool's parameter schema (:func:`schema_instance`), with place-like
  parameters (``city``, ``location``) taken from the question (``"Paris"``) and query-like
  ones (``query``, ``question``) given the question itself.

    >>> from ._behaviour import RequestView, ViewMessage
    >>> spec = {"description": "Current weather", "parameters": {
    ...     "type": "object", "properties": {"city": {"type": "string"}}}}
    >>> view = RequestView("openai_chat", "m", [ViewMessage("user", "Weather in Oslo?")],
    ...                    tools=["get_weather"], tool_specs={"get_weather": spec})
    >>> chosen_tool_call(view)
    ('get_weather', {'city': 'Oslo'})
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ._schema_instance import schema_instance

if TYPE_CHECKING:
    from ._behaviour import RequestView

__all__ = ["chosen_tool_call", "question_subject"]

_STOPWORDS = frozenset(
    "a an and are can could does for from get give how into is it its me my of on or out "
    "please tell that the this to use using what whats when where which who why will with "
    "would you your current".split()
)
_PREPOSITIONS = ("in", "for", "of", "at", "about", "near", "from", "to", "on")
_PLACE_PARAMS = ("city", "location", "place", "where", "address", "region", "town")
_QUERY_PARAMS = ("query", "q", "question", "text", "prompt", "topic", "input", "search")


def chosen_tool_call(view: RequestView) -> tuple[str, dict[str, Any]] | None:
    """``(tool name, arguments)`` the default reply calls, or ``None`` to answer in text."""
    if not view.tools or view.has_tool_result or view.tool_choice == "none":
        return None
    name = _pick(view)
    if name is None:
        return None
    spec = view.tool_specs.get(name) or {}
    parameters = spec.get("parameters") or {"type": "object", "properties": {}}
    arguments = schema_instance(parameters, _hints(view.last_user_text))
    return name, arguments if isinstance(arguments, dict) else {}


def _pick(view: RequestView) -> str | None:
    choice = view.tool_choice
    if choice not in (None, "auto", "required", "none"):
        return choice if choice in view.tools else None
    asked = _words(view.last_user_text)
    best, best_score = None, 0
    # Only tools described by name and schema (a Responses built-in such as web_search is not
    # answered with a function call).
    candidates = [name for name in view.tools if name in view.tool_specs]
    for name in candidates:
        description = str((view.tool_specs.get(name) or {}).get("description") or "")
        offered = _words(_split_name(name) + " " + description)
        score = sum(1 for word in asked if any(_same(word, other) for other in offered))
        if score > best_score:
            best, best_score = name, score
    if best is None and choice == "required" and candidates:
        return candidates[0]
    return best


def _words(text: str) -> set[str]:
    found = re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))
    return {w for w in found if len(w) >= 3 and w not in _STOPWORDS}


def _split_name(name: str) -> str:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return spaced.replace("_", " ").replace("-", " ")


def _same(a: str, b: str) -> bool:
    # A crude stem: "weather"/"weathers", "search"/"searching" agree on their first 5 letters.
    if len(a) >= 5 and len(b) >= 5:
        return a[:5] == b[:5]
    return a == b


def question_subject(text: str) -> str:
    """What a question is about: the words after its last preposition, else its capitalised
    words, else the whole question (``"Weather in Paris?"`` → ``"Paris"``)."""
    cleaned = text.strip().rstrip("?.! ")
    words = cleaned.split()
    for index in range(len(words) - 1, -1, -1):
        if words[index].lower() in _PREPOSITIONS and index < len(words) - 1:
            return " ".join(words[index + 1 :]).strip(",;:")
    capitalised = [w.strip(",;:") for w in words[1:] if w[:1].isupper()]
    return " ".join(capitalised) or cleaned


def _hints(question: str) -> dict[str, Any]:
    if not question:
        return {}
    subject = question_subject(question)
    hints: dict[str, Any] = dict.fromkeys(_PLACE_PARAMS, subject)
    hints.update(dict.fromkeys(_QUERY_PARAMS, question))
    return hints
