"""LLMClient: the LM Deluge client API, executed by ProviderCaller actors on Ray.

Same constructor and methods as lm-deluge's ``LLMClient``; two keyword additions:
``address=`` (join this Ray cluster; default: the running one, ``RAY_ADDRESS``, or a quiet
embedded Ray) and ``num_callers=`` (how many ProviderCaller actors this client starts).

    >>> from deluge_ray.client import LLMClient
    >>> client = LLMClient("gpt-4.1-mini", max_new_tokens=64, progress="manual")
    >>> client.name
    'gpt-4.1-mini'
    >>> resps = client.process_prompts_sync(["Say hi"])    # doctest: +SKIP
    >>> resps[0].completion                                 # doctest: +SKIP
    'Hi!'
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal

from ..agents import _loop as agent_loops
from ..api_requests import APIResponse
from ..config import SamplingParams
from ..models import split_effort_suffixes
from ..prompt import Conversation
from ..prompt._prompts import to_conversations
from ..transport import _batch_jobs as batch_jobs
from ..transport._work import CallSpec, ModelRoute
from ._agent_methods import AgentLoopMethods
from ._config import check_limits, fallback_ids, normalise_models
from ._configurable import ConfigurableClient
from ._engine import Engine, Job
from ._engine_factory import new_engine
from ._limiter_status import LimiterStatusMixin
from ._options import (
    check_client_options,
    check_service_tier,
    check_unsendable_options,
    default_num_callers,
    output_effort,
)
from ._pacing import warn_if_rate_unreachable
from ._progress import ProgressDisplay, make_display
from ._routes import build_routes, default_limiter_factory, read_keys
from ._runtime import ensure_ray
from ._specs import CallSettings, SpecBook
from ._streaming import stream_to_stdout
from ._sync import run_sync
from ._tasks import TaskRegistry
from ._tenancy import client_tenancy
from ._tools import check_call_options
from ._tracker import StatusTracker

__all__ = ["LLMClient"]

Effort = Literal["low", "medium", "high", "xhigh", "minimal", "none", "max"]


class LLMClient(AgentLoopMethods, ConfigurableClient, LimiterStatusMixin):
    """Send prompts to LLM providers at their rate limit, through Ray actors.

    Every constructor argument of lm-deluge 0.0.168's client is accepted with the same
    default; the few deluge_ray cannot honour (``cache_ttl``, ``stateless_responses``,
    ``task_budget``, ``thinking_prefix_mismatch="drop_block"``) raise ConfigurationError
    when set. ``fallback_models`` join with weight 0: they serve a prompt once the
    weighted models fail with an error that switches models.
    deluge_ray additions: ``address`` (a Ray cluster address to join) and ``num_callers``
    (the ProviderCaller pool size; default scales with ``max_concurrent_requests``, and
    a default-sized pool starts one caller, adding the rest once the first answer is in).
    ``postprocess`` runs on the driver, so it may be any callable (a lambda is fine).
    Results always come back in input order; a prompt that fails is an ``APIResponse``
    with ``is_error=True`` and an ``error_message`` saying why.
    """

    def __init__(
        self,
        model_names: str | list[str] = "gpt-4.1-mini",
        *,
        name: str | None = None,
        max_requests_per_minute: int = 1_000,
        max_tokens_per_minute: int = 500_000,
        max_concurrent_requests: int = 225,
        sampling_params: list[SamplingParams] | None = None,
        model_weights: list[float] | Literal["uniform", "dynamic"] = "uniform",
        fallback_models: list[str] | None = None,
        max_attempts: int = 5,
        request_timeout: int = 30,
        cache: Any = None,
        cache_ttl: Literal["5m", "1h"] | None = None,
        extra_headers: dict[str, str] | None = None,
        extra_body: dict[str, Any] | None = None,
        thinking_prefix_mismatch: Literal["error", "drop_block"] = "error",
        use_responses_api: bool = False,
        stateless_responses: bool | None = None,
        background: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        json_mode: bool = False,
        max_new_tokens: int = 512,
        reasoning_effort: Effort | None = None,
        global_effort: Effort | None = None,
        verbosity: Effort | None = None,
        thinking_budget: int | None = None,
        task_budget: int | None = None,
        logprobs: bool = False,
        top_logprobs: int | None = None,
        force_local_mcp: bool = False,
        progress: Literal["rich", "tqdm", "manual"] = "rich",
        postprocess: Callable[[APIResponse], APIResponse] | None = None,
        address: str | None = None,
        num_callers: int | None = None,
        priority: str | int = "default",
        budget_usd: float | None = None,
        key_budget_usd: float | None = None,
        key_budget_window: float = 86_400.0,
    ) -> None:
        check_limits(max_requests_per_minute, max_tokens_per_minute, max_concurrent_requests)
        check_client_options(
            max_attempts=max_attempts,
            request_timeout=request_timeout,
            background=background,
            use_responses_api=use_responses_api,
            progress=progress,
            num_callers=num_callers,
            postprocess=postprocess,
        )
        self.tenancy = client_tenancy(priority=priority, budget_usd=budget_usd, key_budget_usd=key_budget_usd, key_budget_window=key_budget_window, name=name)  # fmt: skip
        check_unsendable_options(
            cache_ttl=cache_ttl,
            stateless_responses=stateless_responses,
            use_responses_api=use_responses_api,
            thinking_prefix_mismatch=thinking_prefix_mismatch,
            task_budget=task_budget,
        )
        effort = output_effort(global_effort, verbosity)
        self.fallback_models: list[str] = fallback_ids(fallback_models)
        self._use_models(
            normalise_models(
                model_names,
                model_weights=model_weights,
                sampling_params=sampling_params,
                defaults=dict(
                    temperature=temperature,
                    top_p=top_p,
                    json_mode=json_mode,
                    max_new_tokens=max_new_tokens,
                    global_effort=effort,
                    reasoning_effort=reasoning_effort,
                    thinking_budget=thinking_budget,
                    logprobs=logprobs,
                    top_logprobs=top_logprobs,
                ),
                logprobs=logprobs,
                top_logprobs=top_logprobs,
                fallback_models=self.fallback_models,
            )
        )
        weighted = [m for m, w in zip(self.model_names, self.model_weights, strict=True) if w > 0]
        only_model = weighted[0] if len(weighted) == 1 else "LLMClient"
        self.name = name if name is not None else only_model
        self.max_requests_per_minute = max_requests_per_minute
        self.max_tokens_per_minute = max_tokens_per_minute
        self.max_concurrent_requests = max_concurrent_requests
        warn_if_rate_unreachable(
            max_requests_per_minute, max_tokens_per_minute, self._models.max_new_tokens
        )
        self.max_attempts, self.request_timeout = max_attempts, request_timeout
        self.cache, self.cache_ttl = cache, cache_ttl
        self.extra_headers, self.extra_body = extra_headers, extra_body
        self.thinking_prefix_mismatch = thinking_prefix_mismatch
        self.use_responses_api = use_responses_api
        self.stateless_responses = stateless_responses
        self.background = background
        self.temperature, self.top_p = temperature, top_p
        self.json_mode = json_mode
        self.max_new_tokens = max_new_tokens
        # A single model's effort suffix ("o3-high") is the client's effort, as in 0.0.168.
        self.reasoning_effort = reasoning_effort or split_effort_suffixes(model_names)[1]
        self.global_effort = self.verbosity = effort
        self.thinking_budget, self.task_budget = thinking_budget, task_budget
        self.logprobs, self.top_logprobs = logprobs, top_logprobs
        self.force_local_mcp = force_local_mcp
        self.progress = progress
        self.postprocess = postprocess
        self.address = address
        self._num_callers_chosen = num_callers is not None
        self.num_callers = num_callers or default_num_callers(max_concurrent_requests)

        self._tasks = TaskRegistry()
        self._tracker: StatusTracker | None = None
        self._display: ProgressDisplay | None = None
        self._total_announced = False
        self._state_lock = threading.Lock()
        self._routes: tuple[ModelRoute, ...] | None = None
        self._specs = SpecBook()  # the CallSpecs of the current engine
        self._engine: Engine | None = None
        self._agent_thread: Any = None  # a LoopThread for agent loops started from sync code
        # Tests and tools may swap this for a factory that returns None (no limiter).
        self._limiter_factory = default_limiter_factory

    def __repr__(self) -> str:
        return (
            f"LLMClient(model_names={self.model_names!r}, name={self.name!r}, "
            f"max_requests_per_minute={self.max_requests_per_minute}, "
            f"max_tokens_per_minute={self.max_tokens_per_minute}, "
            f"max_concurrent_requests={self.max_concurrent_requests})"
        )

    @property
    def models(self) -> list[str]:
        """The model names (lm-deluge compatibility)."""
        return self.model_names

    # ---- tracker / progress -------------------------------------------------------------
    def open(self, total: int | None = None, show_progress: bool = True) -> LLMClient:
        """Start a tracker and display shared by the following calls until :meth:`close`."""
        self._tracker = StatusTracker(
            self.max_requests_per_minute,
            self.max_tokens_per_minute,
            self.max_concurrent_requests,
            client_name=self.name,
        )
        # With a total announced up front, later submissions must not count themselves again.
        self._total_announced = bool(total)
        if total:
            self._tracker.add_to_total(total)
        self._display = make_display(self.progress, self._tracker, enabled=show_progress)
        self._display.start()
        return self

    def close(self) -> None:
        """Stop the display and print the totals (requests, failures, 429s, tokens, cost)."""
        tracker, display = self._tracker, self._display
        self._tracker = self._display = None
        self._total_announced = False
        if display is not None:
            display.close()
            if tracker is not None and type(display) is not ProgressDisplay:
                print(tracker.final_summary())

    def reset_tracker(self) -> None:
        """Zero the counters, keeping the display style and visibility."""
        if self._tracker is None:
            return
        show = type(self._display) is not ProgressDisplay
        self.close()
        self.open(total=0, show_progress=show)

    def _get_tracker(self, show_progress: bool = True) -> tuple[StatusTracker, ProgressDisplay]:
        if self._tracker is None:
            self.open(show_progress=show_progress)
        assert self._tracker is not None and self._display is not None
        return self._tracker, self._display

    @property
    def tracker(self) -> StatusTracker | None:
        """The open :class:`StatusTracker`, or ``None``."""
        return self._tracker

    # ---- engine plumbing ------------------------------------------------------------------
    def _ensure_engine(self) -> Engine:
        with self._state_lock:
            if self._routes is None:
                keys = read_keys(self._models)  # MissingAPIKeyError before Ray or any send
                ensure_ray(self.address)
                # Callers first: their processes start while build_routes waits for the
                # shared RateLimiter, instead of after it (a cold first call is shorter).
                self._make_engine().start_pool()
                self._routes = build_routes(
                    self._models,
                    keys,
                    (
                        self.max_requests_per_minute,
                        self.max_tokens_per_minute,
                        self.max_concurrent_requests,
                    ),
                    self._limiter_factory,
                    tenant=self.tenancy.tenant_for(self._models.models),
                )
            return self._make_engine()

    def _make_engine(self) -> Engine:
        # Called with self._state_lock held.
        if self._engine is None:
            self._engine = new_engine(self)
        return self._engine

    def _spec_for(
        self, engine: Engine, tools: Any, output_schema: Any, cache: Any, service_tier: Any
    ) -> CallSpec:
        check_service_tier(service_tier)
        assert self._routes is not None
        return self._specs.spec_for(
            engine,
            self._call_settings(),
            tools=tools,
            output_schema=output_schema,
            cache=cache,
            service_tier=service_tier,
            expand_mcp=self.force_local_mcp or not agent_loops.supports_native_mcp(self),
        )

    def _call_settings(self) -> CallSettings:
        assert self._routes is not None, "call _ensure_engine first"
        return CallSettings.of(self, self._routes)

    def _to_conversations(self, prompts: Any) -> list[Conversation]:
        return to_conversations(prompts, keep_unreadable=True)  # each fails alone

    def _submit(
        self,
        conversations: list[Conversation],
        *,
        tools: Any,
        output_schema: Any,
        cache: Any,
        service_tier: Any,
        show_progress: bool,
        task_ids: list[int],
        single: bool = False,
        text_sink: Any = None,
    ) -> Any:
        check_call_options(tools, output_schema)  # before Ray starts or anything is sent
        engine = self._ensure_engine()
        spec = self._spec_for(engine, tools, output_schema, cache, service_tier)
        max_new = max(sp.max_new_tokens for sp in self.sampling_params)
        # Tool definitions are billed as input on every request, so they count too.
        tool_tokens = self._specs.tool_tokens(spec.spec_id)
        estimates = [c.count_tokens(max_new) + tool_tokens for c in conversations]
        tracker, display = self._get_tracker(show_progress)
        tracker.record_estimates(estimates)
        if not self._total_announced:
            tracker.add_to_total(len(conversations))
        job = Job(
            conversations=conversations,
            estimates=estimates,
            spec=spec,
            response_ids=task_ids,
            tracker=tracker,
            display=display,
            single=single,
            text_sink=text_sink,
        )
        return engine.submit(job)

    # ---- batch API ------------------------------------------------------------------------
    async def process_prompts_async(
        self,
        prompts: Any,
        *,
        return_completions_only: bool = False,
        show_progress: bool = True,
        tools: Sequence[Any] | None = None,
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
    ) -> list[APIResponse] | list[str | None]:
        """Send every prompt; return the responses (or completions) in input order.

        An empty list of prompts returns ``[]`` without starting anything (as 0.0.168).
        """
        conversations = self._to_conversations(prompts)
        if not conversations:
            return []
        opened_here = self._tracker is None
        first = self._tasks.reserve(len(conversations))
        try:
            future = self._submit(
                conversations,
                tools=tools,
                output_schema=output_schema,
                cache=cache,
                service_tier=service_tier,
                show_progress=show_progress,
                task_ids=list(range(first, first + len(conversations))),
            )
            results = await asyncio.wrap_future(future)
        finally:
            if opened_here:
                self.close()
        if return_completions_only:
            return [r.completion for r in results]
        return results

    def process_prompts_sync(
        self,
        prompts: Any,
        *,
        return_completions_only: bool = False,
        show_progress: bool = True,
        tools: Sequence[Any] | None = None,
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
    ) -> list[APIResponse] | list[str | None]:
        """:meth:`process_prompts_async` from sync code, also inside a running loop."""
        return run_sync(
            self.process_prompts_async(
                prompts,
                return_completions_only=return_completions_only,
                show_progress=show_progress,
                tools=tools,
                output_schema=output_schema,
                cache=cache,
                service_tier=service_tier,
            )
        )

    # ---- task API -------------------------------------------------------------------------
    def start_nowait(
        self,
        prompt: Any,
        *,
        tools: Sequence[Any] | None = None,
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
    ) -> int:
        """Queue one prompt; return its task id at once (no event loop needed)."""
        return self._start_one(
            prompt, tools=tools, output_schema=output_schema, cache=cache, service_tier=service_tier
        )

    def _start_one(
        self,
        prompt: Any,
        *,
        tools: Sequence[Any] | None = None,
        output_schema: Any = None,
        cache: str | None = None,
        service_tier: str | None = None,
        text_sink: Any = None,
    ) -> int:
        """``start_nowait``; with ``text_sink`` the reply's text goes there as it arrives
        (the driver sends the prompt streamed: see ``client._streamed_calls``)."""
        conversations = self._to_conversations([prompt])
        task_id = self._tasks.reserve()
        future = self._submit(
            conversations,
            tools=tools,
            output_schema=output_schema,
            cache=cache,
            service_tier=service_tier,
            show_progress=True,
            task_ids=[task_id],
            single=True,
            text_sink=text_sink,
        )
        self._tasks.add(future, task_id)
        return task_id

    async def start(self, prompt: Any, **kwargs: Any) -> APIResponse:
        """``start_nowait`` + ``wait_for``: one prompt's response."""
        return await self.wait_for(self.start_nowait(prompt, **kwargs))

    async def wait_for(self, task_id: int) -> APIResponse:
        """The response of one task."""
        return await self._tasks.wait_for(task_id)

    async def wait_for_all(self, task_ids: Sequence[int] | None = None) -> list[APIResponse]:
        """Responses of ``task_ids`` (default: every task started), in that order."""
        return await self._tasks.wait_for_all(task_ids)

    async def as_completed(self, task_ids: Sequence[int] | None = None):
        """Yield ``(task_id, APIResponse)`` as tasks finish."""
        async for pair in self._tasks.as_completed(task_ids):
            yield pair

    # ---- streaming and provider batch jobs ----------------------------------------------
    async def stream(self, prompt: Any, *, tools: Sequence[Any] | None = None) -> APIResponse:
        """Print the reply to stdout as it streams; return the final ``APIResponse``.

        Uses the client's first model and sampling params, and takes its capacity from the
        shared rate limiter. For each chunk as a value, iterate
        :func:`deluge_ray.api_requests.openai.stream_chat` instead.

            >>> final = await client.stream("Count to five")  # doctest: +SKIP
        """
        self._ensure_engine()
        return await stream_to_stdout(self._call_settings(), prompt, tools=tools)

    async def submit_batch_job(
        self,
        prompts: Sequence[Any],
        *,
        tools: Sequence[Any] | None = None,
        cache: str | None = None,
        batch_size: int = 50_000,
    ) -> list[str]:
        """Submit ``prompts`` through the provider's batch API; return the batch ids.

        The provider follows from the client's model (OpenAI or Anthropic); a client with
        several models is refused, since one batch goes to one model.
        """
        return await batch_jobs.submit_batch_job(
            self.model_names,
            prompts,
            sampling_params=self.sampling_params[0],
            tools=list(tools) if tools else None,
            cache=cache,
            batch_size=batch_size,
            extra_headers=self.extra_headers,
            extra_body=self.extra_body,
        )

    async def wait_for_batch_job(
        self, batch_ids: Sequence[str] | str, provider: str
    ) -> list[APIResponse]:
        """Poll batch jobs (with a progress display) until done; responses in prompt order."""
        return await batch_jobs.wait_for_batch_job(batch_ids, provider)

    def process_dataset(self, ds: Any, **options: Any) -> Any:
        """Answer every row of a ``ray.data.Dataset``; returns the lazy output dataset (options
        and output columns: :func:`deluge_ray.data.process_dataset`)."""
        from ..data import process_dataset  # optional extra (pandas, pyarrow); data imports client

        return process_dataset(self, ds, **options)

    # ---- lifecycle ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop this client's engine thread and ProviderCaller actors (deluge_ray addition).

        The shared RateLimiter stays up for other clients. Safe to call twice.
        """
        display, self._display, self._tracker = self._display, None, None
        if display is not None:
            display.close()  # stop a periodic display quietly; close() is what prints totals
        with self._state_lock:
            engine, self._engine = self._engine, None
            self._specs.clear()  # spec ids are per engine
        if engine is not None:
            engine.shutdown()
        self._close_agents()  # agent loop thread and idle SubAgent actors
