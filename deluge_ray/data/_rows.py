"""Read one dataset row's prompt into a :class:`Conversation`, or say what is wrong with it.

A row's prompt comes from ``prompt_column`` (a string, or an OpenAI- or Anthropic-style
message list), or from ``messages_column`` when that is named (a message list; it takes
precedence). ``system_column``, when named, adds its string as the system message. A value
that cannot be a prompt is not an exception: it becomes that row's error message, so one
bad row never fails a job.

Arrow stores a column of message dicts as structs sharing one set of fields, so a key one
message has and another lacks reads back as ``None``; those are dropped before parsing.

    >>> reader = RowReader(prompt_column="q")
    >>> reader.read({"q": "What is 2 + 2?"}).messages[0].completion
    'What is 2 + 2?'
    >>> reader.read({"q": "   "})
    "column 'q' is empty; give the row a prompt"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import PromptError
from ..prompt import Conversation
from ..prompt._prompts import prompts_to_conversations

__all__ = ["RowReader", "drop_arrow_nulls"]


def drop_arrow_nulls(value: Any) -> Any:
    """``value`` without the ``None`` entries Arrow adds to dicts read back from a column.

    Arrow stores message dicts as structs with one set of fields: a key that one message
    has and another lacks reads back as ``None`` there.
    """
    if isinstance(value, dict):
        return {k: drop_arrow_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_arrow_nulls(v) for v in value]
    return value


@dataclass(frozen=True)
class RowReader:
    """Which columns hold a row's prompt; :meth:`read` turns a row into a conversation."""

    prompt_column: str = "prompt"
    messages_column: str | None = None
    system_column: str | None = None

    @property
    def source_column(self) -> str:
        """The column the prompt is read from."""
        return self.messages_column or self.prompt_column

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Every column this reader needs to find in the dataset."""
        extra = (self.system_column,) if self.system_column else ()
        return (self.source_column, *extra)

    def read(self, row: dict[str, Any]) -> Conversation | str:
        """The row's conversation, or a message naming what is wrong with the row."""
        column = self.source_column
        value = row.get(column)
        if value is None:
            return f"column {column!r} is null; give the row a prompt"
        if isinstance(value, str):
            if not value.strip():
                return f"column {column!r} is empty; give the row a prompt"
            conversation = Conversation().user(value)
        elif isinstance(value, list):
            if not value:
                return f"column {column!r} holds an empty message list"
            if not all(isinstance(m, dict) for m in value):
                return (
                    f"column {column!r} holds a list that is not of message dicts "
                    "(each item needs 'role' and 'content')"
                )
            try:
                (conversation,) = prompts_to_conversations([drop_arrow_nulls(value)])
            except Exception as exc:  # any parse failure is this row's problem, not the job's
                detail = str(exc).replace("prompts[0] is not a valid message list: ", "")
                if not isinstance(exc, PromptError):
                    detail = f"{type(exc).__name__}: {detail}"
                return f"column {column!r} holds an invalid message list: {detail}"
        else:
            return (
                f"column {column!r} holds a {type(value).__name__}; expected a string or a "
                "list of OpenAI/Anthropic message dicts"
            )
        return self._with_system(conversation, row)

    def _with_system(self, conversation: Conversation, row: dict[str, Any]) -> Conversation | str:
        if not self.system_column:
            return conversation
        system = row.get(self.system_column)
        if system is None or (isinstance(system, str) and not system.strip()):
            return conversation  # no system message for this row: a valid choice
        if not isinstance(system, str):
            return (
                f"column {self.system_column!r} holds a {type(system).__name__}; "
                "expected a string (the system message)"
            )
        return Conversation([*Conversation().system(system).messages, *conversation.messages])
