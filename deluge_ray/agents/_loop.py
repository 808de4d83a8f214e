"""Agent loops: ask the model, run the tools it calls, send the results back, repeat.

The loop itself (:func:`agent_loop`) knows nothing about where model calls go: it takes an
async *model call* ``(conversation, tools) -> APIResponse``. On the driver that is the
client's engine (rate limits, retries, cache); inside a SubAgent actor it is an in-process
request runner. The same loop therefore runs in both places.

One *round* is one model call. After a round whose reply asks for tools:

* every call of the round runs concurrently (``asyncio.gather``);
* a tool that raises sends ``"Error: <ExceptionType>: <message>"`` back to the model
  instead of ending the loop, and so does one that outlasts ``tool_timeout`` seconds; a call to a tool that does not exist says so and lists the
  available tools;
* results of any type are passed back: ``str``, ``dict``/``list`` (sent as JSON), an
  :class:`~deluge_ray.prompt.Image` or a list of Text/Image parts, pydantic models and
  other scalars (as JSON text).

The loop stops when a reply has no tool calls, when a model call fails, or when
``max_rounds`` model calls have been made. **How it says why:** the final
:class:`APIResponse` carries ``loop_stop_reason`` – ``"no_tool_calls"`` (a final answer),
``"max_rounds"`` (the last reply still asked for tools; those calls were not run and the
conversation ends with that reply) or ``"error"`` – and ``agent_rounds`` (model calls made).

The caller's conversation is never mutated; the loop works on a copy.

    >>> import asyncio
    >>> from deluge_ray.prompt import Conversation
    >>> async def model(conv, tools):       # a stand-in for a real model call
    ...     from deluge_ray.api_requests import APIResponse
    ...     from deluge_ray.config import SamplingParams
    ...     from deluge_ray.prompt import Message
    ...     return APIResponse(id=0, model_internal="m", prompt=conv,
    ...                        sampling_params=SamplingParams(), status_code=200,
    ...                        is_error=False, error_message=None, content=Message.ai("hi"))
    >>> conv, resp = asyncio.run(agent_loop(Conversation().user("hey"), model, max_rounds=2))
    >>> resp.completion, resp.loop_stop_reason, len(conv.messages)
    ('hi', 'no_tool_calls', 2)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pydantic_core

from ..errors import ConfigurationError
from ..models import get_model
from ..prompt import Conversation, Image, Message, Text, ToolCall, prompts_to_conversations
from ..tool import MCPServer, Tool
from ..tool._calling import malformed_arguments
from ._context import AgentContext, as_agent_context
from ._options import LoopHooks, LoopOptions, final_turn_warning
from ._text_deltas import TextDeltaRelay

if TYPE_CHECKING:
    from ..api_requests import APIResponse
    from ..client._client import LLMClient

__all__ = [
    "AgentTools",
    "ModelCall",
    "agent_loop",
    "check_max_rounds",
    "copy_conversation",
    "execute_tool_calls",
    "mark_stop",
    "normalize_tool_result",
    "prepare_tools",
    "run_agent_loop",
    "run_agent_loop_sync",
    "start_agent_loop_nowait",
    "wait_for_agent_loop",
]

# (conversation, request tools) -> the model's response for that conversation.
ModelCall = Callable[[Conversation, Sequence[Any] | None], Awaitable["APIResponse"]]
# (rounds completed, the conversation so far, that round's response) -> None; called after
# each round's tools ran.
RoundCallback = Callable[[int, Conversation, "APIResponse"], Any]


# ---- tools --------------------------------------------------------------------------------
@dataclass
class AgentTools:
    """The tools of one loop: what the request offers, and what the loop can execute.

    ``request`` holds :class:`Tool` objects, provider-native dicts and (when the provider
    calls MCP servers itself) :class:`MCPServer` objects; ``executable`` maps names to the
    :class:`Tool` objects the loop runs when the model calls them.
    """

    request: list[Any] = field(default_factory=list)
    executable: dict[str, Tool] = field(default_factory=dict)


def supports_native_mcp(client: LLMClient) -> bool:
    """Whether every model of ``client`` lets the provider call MCP servers itself
    (Anthropic messages, OpenAI responses)."""
    for name in client.model_names:
        api_spec = get_model(name).api_spec
        if api_spec == "anthropic":
            continue
        if api_spec == "openai" and client.use_responses_api:
            continue
        return False
    return True


async def prepare_tools(
    tools: Sequence[Any] | None, *, force_local_mcp: bool, native_mcp: bool
) -> AgentTools:
    """Split ``tools`` into request tools and executable tools.

    An :class:`MCPServer` is expanded into local tools (listed once over MCP) when
    ``force_local_mcp`` is set or the provider cannot call MCP servers itself
    (``native_mcp=False``); otherwise it is sent to the provider as is.

    >>> import asyncio
    >>> def echo(text: str) -> str:
    ...     return text
    >>> tools = asyncio.run(prepare_tools([Tool.from_function(echo)], force_local_mcp=False,
    ...                                   native_mcp=False))
    >>> list(tools.executable)
    ['echo']
    """
    out = AgentTools()
    if tools is None:
        return out
    if isinstance(tools, (Tool, MCPServer, dict)) or not isinstance(tools, Sequence):
        raise ConfigurationError(
            f"tools must be a list of Tool / MCPServer / provider tool dicts, got "
            f"{type(tools).__name__}; wrap a single tool in a list."
        )
    for index, tool in enumerate(tools):
        if isinstance(tool, MCPServer) and (force_local_mcp or not native_mcp):
            for local in await tool.to_tools():
                _add_executable(out, local)
        elif isinstance(tool, Tool):
            _add_executable(out, tool)
        elif isinstance(tool, (MCPServer, dict)):
            out.request.append(tool)  # run by the provider, never by the loop
        else:
            raise ConfigurationError(
                f"tools[{index}] is a {type(tool).__name__}; use a deluge_ray Tool "
                "(e.g. Tool.from_function(func)), an MCPServer or a provider tool dict."
            )
    return out


def _add_executable(out: AgentTools, tool: Tool) -> None:
    if tool.name in out.executable and out.executable[tool.name] is not tool:
        raise ConfigurationError(
            f"two tools are named {tool.name!r}; tool names must be unique within a loop "
            "(Tool.from_mcp(..., prefix=True) prefixes MCP tools with their server name)."
        )
    out.executable[tool.name] = tool
    # The request needs only the schema: a copy without the callable, because requests
    # travel to ProviderCaller actors and the callable may not pickle (or be heavy).
    out.request.append(tool.model_copy(update={"run": None}) if tool.run is not None else tool)


def normalize_tool_result(value: Any) -> str | dict | list:
    """Turn what a tool returned into something a :class:`ToolResult` accepts.

    >>> normalize_tool_result(42), normalize_tool_result({"a": 1}), normalize_tool_result(None)
    ('42', {'a': 1}, 'null')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (Image, Text)):
        return [value]
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Image, Text)) for v in value):
        # Content parts: anything else in the list becomes text next to them.
        return [v if isinstance(v, (Image, Text)) else Text(_json_text(v)) for v in value]
    try:
        jsonable = pydantic_core.to_jsonable_python(value)
    except pydantic_core.PydanticSerializationError:
        return str(value)
    if isinstance(jsonable, (dict, list)):
        return jsonable
    return json.dumps(jsonable)


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(pydantic_core.to_jsonable_python(value))
    except (pydantic_core.PydanticSerializationError, TypeError, ValueError):
        return str(value)


async def _run_one(
    call: ToolCall, executable: dict[str, Tool], timeout: float | None = None
) -> str | dict | list:
    tool = executable.get(call.name)
    if tool is None:
        available = ", ".join(sorted(executable)) or "none"
        return (
            f"Error: there is no tool named {call.name!r}. Available tools: {available}. "
            "Call one of those, or answer without tools."
        )
    malformed = malformed_arguments(call.name, call.raw)
    if malformed is not None:  # broken JSON: say so, not "missing required argument"
        return malformed
    try:
        if timeout is None:
            return normalize_tool_result(await tool.acall(**call.arguments))
        return normalize_tool_result(await asyncio.wait_for(tool.acall(**call.arguments), timeout))
    except asyncio.TimeoutError:  # (a plain function's thread is left to finish alone)
        return (
            f"Error: tool {call.name!r} did not answer within tool_timeout={timeout:g} s. "
            "Try again with other arguments, or answer without it."
        )
    except Exception as exc:  # the model reads the error and can try again
        return f"Error: {type(exc).__name__}: {exc}"


async def execute_tool_calls(
    calls: Sequence[ToolCall], executable: dict[str, Tool], timeout: float | None = None
) -> list[tuple[str, str | dict | list]]:
    """Run ``calls`` concurrently; ``(call id, result)`` pairs in call order. Never raises
    for a tool's own failure: the error text is the result (a tool that takes longer than
    ``timeout`` seconds included)."""
    if len(calls) == 1:  # the usual round: no task (gather makes one per call) to run it
        results = [await _run_one(calls[0], executable, timeout)]
    else:
        results = await asyncio.gather(*(_run_one(c, executable, timeout) for c in calls))
    return [(c.id, r) for c, r in zip(calls, results, strict=True)]


# ---- the loop -----------------------------------------------------------------------------
def check_max_rounds(max_rounds: Any) -> int:
    """``max_rounds`` if it is an integer >= 1, else :class:`ConfigurationError`."""
    if not isinstance(max_rounds, int) or isinstance(max_rounds, bool) or max_rounds < 1:
        raise ConfigurationError(
            f"max_rounds must be an integer >= 1 (the most model calls one loop makes), "
            f"got {max_rounds!r}."
        )
    return max_rounds


def copy_conversation(conversation: Conversation) -> Conversation:
    """A copy whose message list and part lists are new (parts themselves are shared,
    they are never edited)."""
    return Conversation([Message(m.role, list(m.parts)) for m in conversation.messages])


def mark_stop(response: APIResponse, reason: str, rounds: int) -> APIResponse:
    """Record why and after how many model calls a loop stopped, on its final response."""
    response.loop_stop_reason = reason
    response.agent_rounds = rounds
    return response


async def agent_loop(
    conversation: Conversation,
    call_model: ModelCall,
    *,
    tools: AgentTools | None = None,
    max_rounds: int = 5,
    rounds_done: int = 0,
    on_round: RoundCallback | None = None,
    max_turns_warning: str = "omit",
    hooks: LoopHooks | None = None,
    tool_timeout: float | None = None,
) -> tuple[Conversation, APIResponse]:
    """Run one loop to its end; see the module docstring.

    ``rounds_done`` resumes a loop from a checkpoint (``conversation`` then already holds
    those rounds); ``on_round(rounds, conversation, response)`` is called (and awaited if
    it returns an awaitable) after each round whose tools ran – the checkpoint a SubAgent
    sends home. ``max_turns_warning`` and ``hooks`` (the caller's callbacks) are
    described in :mod:`deluge_ray.agents._options`.
    """
    check_max_rounds(max_rounds)
    tools = tools or AgentTools()
    working = copy_conversation(conversation)
    request_tools = tools.request or None
    response: APIResponse | None = None
    reason = "no_tool_calls"
    round_no = rounds_done
    while round_no < max_rounds:
        # A snapshot, so the response's prompt is not the object that keeps growing.
        request = Conversation(list(working.messages))
        if max_turns_warning != "omit" and round_no == max_rounds - 1 and round_no > 0:
            warning = final_turn_warning()
            request.messages.append(warning)
            if max_turns_warning == "retain":  # kept in the conversation, not only sent
                working.messages.append(warning)
                if hooks is not None:
                    await hooks.message(warning)
        response = await call_model(request, request_tools)
        round_no += 1
        if response.is_error or response.content is None:
            reason = "error"
            break
        working.add(response.content)
        if hooks is not None:
            reply = response.content
            await hooks.reply(Conversation(list(working.messages)), reply, response, round_no - 1)
        calls = response.content.tool_calls
        if not calls:
            reason = "no_tool_calls"
            break
        if round_no >= max_rounds:
            reason = "max_rounds"
            break
        for call_id, result in await execute_tool_calls(calls, tools.executable, tool_timeout):
            working.with_tool_result(call_id, result)
        if hooks is not None:
            await hooks.tool_results(working.messages[-1], {c.id: c.name for c in calls})
        if on_round is not None:
            outcome = on_round(round_no, working, response)
            if asyncio.iscoroutine(outcome):
                await outcome
    if response is None:  # resumed at max_rounds: cannot happen through checkpoints
        raise ConfigurationError(f"rounds_done={rounds_done} leaves no round to run")
    return working, mark_stop(response, reason, round_no)


# ---- on the driver: the client's agent-loop methods delegate here ----------------------------
def _one_conversation(conversation: Any) -> Conversation:
    if isinstance(conversation, Conversation):
        return conversation
    return prompts_to_conversations([conversation])[0]


async def run_agent_loop(
    client: LLMClient | AgentContext,
    conversation: Any,
    *,
    tools: Sequence[Any] | None = None,
    max_rounds: int = 5,
    options: LoopOptions | None = None,
) -> tuple[Conversation, APIResponse]:
    """Run an agent loop on the driver, in the calling event loop.

    Model calls go through the client's engine (its cache included); tools and the
    callbacks of ``options`` run here, in this process (so they may use driver state).
    Returns ``(final conversation, final response)``.

        conv, resp = await client.run_agent_loop(Conversation().user("2+2?"), tools=[add])
    """
    check_max_rounds(max_rounds)
    options = options or LoopOptions()
    context = as_agent_context(client)
    conv = _one_conversation(conversation)
    prepared = await prepare_tools(
        tools, force_local_mcp=context.force_local_mcp, native_mcp=context.native_mcp
    )
    request_options = options.request_options
    on_text_delta = options.on_text_delta
    rounds = itertools.count()  # the model calls of this loop: the events' ``round``

    async def call_model(request: Conversation, request_tools: Any) -> APIResponse:
        if on_text_delta is None:
            return await context.call_model(request, request_tools, **request_options)
        relay = TextDeltaRelay(on_text_delta, asyncio.get_running_loop(), next(rounds))
        response = await context.call_model(
            request, request_tools, text_sink=relay, **request_options
        )
        if relay.failure is not None:  # the callback raised: the loop ends with it
            raise relay.failure
        return response

    return await agent_loop(
        conv,
        call_model,
        tools=prepared,
        max_rounds=max_rounds,
        max_turns_warning=options.max_turns_warning,
        hooks=options.hooks() if options.has_hooks else None,
        tool_timeout=options.tool_timeout,
    )


def run_agent_loop_sync(
    client: LLMClient | AgentContext,
    conversation: Any,
    *,
    tools: Sequence[Any] | None = None,
    max_rounds: int = 5,
    options: LoopOptions | None = None,
) -> tuple[Conversation, APIResponse]:
    """:func:`run_agent_loop` from synchronous code (also inside a running loop)."""
    from ..client._sync import run_sync

    return run_sync(
        run_agent_loop(client, conversation, tools=tools, max_rounds=max_rounds, options=options)
    )


def start_agent_loop_nowait(
    client: LLMClient | AgentContext,
    conversation: Any,
    *,
    tools: Sequence[Any] | None = None,
    max_rounds: int = 5,
    options: LoopOptions | None = None,
) -> int:
    """Start a loop and return its task id at once; see :func:`wait_for_agent_loop`.

    Inside a running event loop the agent loop is a task of *that* loop (so its tools may
    use that loop's objects); from plain sync code it runs on the client's loop thread.
    """
    check_max_rounds(max_rounds)
    context = as_agent_context(client)
    coro = run_agent_loop(
        context, conversation, tools=tools, max_rounds=max_rounds, options=options
    )
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is None:
        future = context.background().submit(coro)
    else:
        future = concurrent.futures.Future()
        task = running.create_task(coro)
        task.add_done_callback(lambda t: _copy_outcome(t, future))
        # The registry only holds the thread future: keep the task alive with it.
        future._deluge_task = task  # type: ignore[attr-defined]
    return context.tasks.add(future)


def _copy_outcome(task: asyncio.Task, future: concurrent.futures.Future) -> None:
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


async def wait_for_agent_loop(
    client: LLMClient | AgentContext, task_id: int
) -> tuple[Conversation, APIResponse]:
    """``(conversation, response)`` of a loop started with :func:`start_agent_loop_nowait`."""
    return await as_agent_context(client).tasks.wait_for(task_id)
