"""``process_dataset`` on the driver: check the options, resolve the stage, add the transform.

Nothing is sent here. The driver checks the column options against the dataset's schema
(a missing column is an error naming the columns that exist), resolves the client's routes
exactly as its engine does (keys from this process's environment, as
:class:`~deluge_ray._secrets.Secret`, never put in a ``runtime_env``; the shared RateLimiter
of each provider and key), builds the one :class:`~deluge_ray.transport._work.CallSpec`,
and returns ``ds.map_batches(DatasetCaller, ...)``: a lazy dataset, run when the caller
iterates, writes or materialises it.

**Resume.** With a client cache, each row is keyed by its conversation (the cache's own
key, plus the request parameters when the cache was built with
``include_request_params=True``). A row answered before is served from the cache, so
re-running a job that died part-way sends only the rows not yet answered. The cache must
be one every actor reaches: a :class:`~deluge_ray.cache.SqliteCache` on a path all nodes
see, or a :class:`~deluge_ray.cache.DistributedDictCache` over a CacheActor.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..agents._loop import supports_native_mcp
from ..api_requests._common import output_schema_dict
from ..cache import make_request_key
from ..client._options import check_service_tier
from ..client._ray_output import debug_enabled
from ..client._routes import build_routes, read_keys
from ..client._runtime import ensure_ray
from ..client._specs import CallSettings
from ..client._tools import count_tool_tokens, wire_tools
from ..errors import ConfigurationError
from ._columns import added_columns
from ._rows import RowReader
from ._sizing import actor_pool_bounds
from ._stage import DatasetCaller, StageSpec

if TYPE_CHECKING:
    from ..client import LLMClient
    from ..transport._work import ModelRoute

__all__ = ["process_dataset"]


def _check_column_option(name: str, value: Any, *, optional: bool) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        expected = "a column name (a non-empty string) or None" if optional else "a column name"
        raise ConfigurationError(f"{name} must be {expected}, got {value!r}.")


def _check_positive(name: str, value: Any, kind: type, *, zero_ok: bool = False) -> None:
    bad_type = isinstance(value, bool) or not isinstance(value, kind | int)
    if bad_type or value < 0 or (value == 0 and not zero_ok):
        least = "a number >= 0" if zero_ok else "a positive number"
        raise ConfigurationError(f"{name} must be {least}, got {value!r}.")


def _import_ray_data() -> Any:
    try:
        import ray.data
    except ImportError as exc:  # pandas / pyarrow missing: the `data` extra
        raise ConfigurationError(
            f"process_dataset needs Ray Data ({exc}); install it with "
            "pip install 'deluge-ray[data]'"
        ) from exc
    return ray.data


def _restart_args(map_batches: Any) -> dict[str, Any]:
    """No actor restarts on a one-node cluster (unless ``DELUGE_RAY_DEBUG`` is set).

    A restart is what carries a stage through the loss of a node. With one node there is
    none to survive, and Ray's actor pools pass their constructor arguments through the
    object store, for which Ray logs an error line per restartable actor it creates
    ("has constructor arguments in the object store and max_restarts > 0"), on the
    user's terminal. Without restarts a crashed actor fails the job; rerun it: the rows
    already answered come from the client's cache.
    """
    import ray

    takes_remote_args = any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        for p in inspect.signature(map_batches).parameters.values()
    )
    if not takes_remote_args or debug_enabled():
        return {}
    if sum(1 for node in ray.nodes() if node.get("Alive")) > 1:
        return {}
    return {"max_restarts": 0}


def check_dataset_columns(columns: Sequence[str], reader: RowReader, added: Sequence[str]) -> None:
    """Refuse a dataset without the prompt column(s), or already holding an output column."""
    missing = [c for c in reader.required_columns if c not in columns]
    if missing:
        which = (
            "messages_column"
            if missing[0] == reader.messages_column
            else ("system_column" if missing[0] == reader.system_column else "prompt_column")
        )
        raise ConfigurationError(
            f"{which}={missing[0]!r} is not a column of this dataset; its columns are "
            f"{list(columns)}. Pass {which}= naming one of them."
        )
    clash = [c for c in added if c in columns]
    if clash:
        raise ConfigurationError(
            f"the dataset already has column(s) {clash}, which process_dataset adds; "
            "rename or drop them first (ds.rename_columns / ds.drop_columns)."
        )


def _routes_of(client: LLMClient) -> tuple[ModelRoute, ...]:
    # The engine's routes when it has resolved them; else resolved the same way, without
    # starting the engine's ProviderCallers (the dataset's actors do the sending).
    if client._routes is not None:
        return client._routes
    keys = read_keys(client._models)  # MissingAPIKeyError before Ray or any send
    ensure_ray(client.address)
    limits = (
        client.max_requests_per_minute,
        client.max_tokens_per_minute,
        client.max_concurrent_requests,
    )
    # The client's tenant too: its priority and name reach the limiter and the metrics.
    tenant = client.tenancy.tenant_for(client._models.models)
    return build_routes(client._models, keys, limits, client._limiter_factory, tenant=tenant)


def _shippable(name: str, value: Any) -> None:
    """Refuse, before any work, an object the actors could not receive."""
    if value is None:
        return
    from ray import cloudpickle

    try:
        cloudpickle.dumps(value)
    except Exception as exc:
        raise ConfigurationError(
            f"the client's {name} ({type(value).__name__}) cannot be sent to Ray Data's "
            f"actors: {type(exc).__name__}: {exc}. Use a picklable one (for a cache: "
            "SqliteCache or DistributedDictCache)."
        ) from exc


def build_stage(
    client: LLMClient,
    reader: RowReader,
    columns: tuple[str, ...],
    *,
    tools: Sequence[Any] | None,
    output_schema: Any,
    cache: str | None,
    service_tier: str | None,
) -> StageSpec:
    """Everything the stage's actors need, resolved on the driver."""
    check_service_tier(service_tier)
    if output_schema is not None and not isinstance(output_schema, dict):
        # Its JSON schema, not the class: a pydantic class defined in a function or a
        # notebook does not pickle to the actors, and the request only needs the schema.
        name, output_schema = output_schema_dict(output_schema)
        output_schema.setdefault("title", name)
    _shippable("cache", client.cache)
    _shippable("postprocess", client.postprocess)
    routes = _routes_of(client)
    expand_mcp = client.force_local_mcp or not supports_native_mcp(client)
    wired = wire_tools(list(tools) if tools else (), expand_mcp=expand_mcp)
    spec = CallSettings.of(client, routes).spec(
        0, wired, output_schema=output_schema, cache_pattern=cache, service_tier=service_tier
    )
    return StageSpec(
        call_spec=spec,
        reader=reader,
        columns=columns,
        max_new_tokens=max(sp.max_new_tokens for sp in client.sampling_params),
        tool_tokens=count_tool_tokens(wired),
        token_budget=client.max_tokens_per_minute,
        cache=client.cache,
        request_key=make_request_key(client.model_names, client.sampling_params),
        postprocess=client.postprocess,
        name=client.name,
    )


def process_dataset(
    client: LLMClient,
    ds: Any,
    *,
    prompt_column: str = "prompt",
    messages_column: str | None = None,
    system_column: str | None = None,
    tools: Sequence[Any] | None = None,
    output_schema: Any = None,
    cache: str | None = None,
    service_tier: str | None = None,
    return_completions_only: bool = False,
    include_raw_response: bool = False,
    batch_size: int = 64,
    max_actors: int | None = None,
    num_cpus: float = 0.25,
    expected_latency_s: float = 2.0,
) -> Any:
    """``client``'s answer to every row of ``ds``, as a lazy ``ray.data.Dataset``.

    Each output row keeps every input column and gains the columns of
    :data:`~deluge_ray.data.OUTPUT_COLUMNS` (contract in :mod:`deluge_ray.data._columns`);
    ``return_completions_only=True`` adds ``completion`` alone, ``include_raw_response=True``
    adds ``raw_response`` too. A row whose prompt is null, empty, not a string or message
    list, or too big for the token budget, and a row the provider refuses, is an error row;
    the job never fails for a row.

    The prompt is ``prompt_column`` (a string, or an OpenAI-/Anthropic-style message list),
    or ``messages_column`` when named; ``system_column`` adds a per-row system message.
    ``tools``, ``output_schema``, ``cache`` (Anthropic cache pattern) and ``service_tier``
    are as in ``process_prompts_async``. ``batch_size`` rows of a batch are in flight
    together; the actor pool (``num_cpus`` each) autoscales up to a size computed from the
    client's limits and ``expected_latency_s`` (or ``max_actors``).

    Raises :class:`~deluge_ray.errors.ConfigurationError` before any request for a bad
    option, a column that is not in the dataset (naming those that are), or an output
    column the dataset already has, whenever the dataset's schema is known without running
    it (a file read, ``from_items``, a materialised dataset); otherwise a missing column
    makes every row an error row naming the columns there are.
    """
    _check_column_option("prompt_column", prompt_column, optional=False)
    _check_column_option("messages_column", messages_column, optional=True)
    _check_column_option("system_column", system_column, optional=True)
    _check_positive("batch_size", batch_size, int)
    _check_positive("num_cpus", num_cpus, float, zero_ok=True)
    _check_positive("expected_latency_s", expected_latency_s, float)
    if max_actors is not None:
        _check_positive("max_actors", max_actors, int)
    ray_data = _import_ray_data()
    if not isinstance(ds, ray_data.Dataset):
        raise ConfigurationError(
            f"process_dataset takes a ray.data.Dataset, got {type(ds).__name__}; build one "
            "with ray.data.read_parquet(...), ray.data.from_items(...) or similar."
        )
    reader = RowReader(prompt_column, messages_column, system_column)
    columns = added_columns(
        include_raw_response=include_raw_response, completions_only=return_completions_only
    )
    # Only a schema known without running anything: fetching one would run the upstream
    # stages on a first block (another LLM stage would send requests). When it is unknown,
    # the actors check each batch and a missing column makes every row an error row.
    existing = ds.columns(fetch_if_missing=False)
    if existing is not None:
        check_dataset_columns(existing, reader, columns)
    stage = build_stage(
        client,
        reader,
        columns,
        tools=tools,
        output_schema=output_schema,
        cache=cache,
        service_tier=service_tier,
    )
    low, high = actor_pool_bounds(
        rpm=client.max_requests_per_minute,
        max_concurrent=client.max_concurrent_requests,
        latency_s=expected_latency_s,
        batch_size=batch_size,
    )
    if max_actors is not None:
        low, high = min(low, max_actors), max_actors
    with warnings.catch_warnings():
        # Ray 2.60 names no parameter for max_restarts and warns that its keyword form
        # will go: a warning about our call, not the user's.
        warnings.filterwarnings("ignore", message=".*ray_remote_args.* is deprecated")
        return ds.map_batches(
            DatasetCaller,
            fn_constructor_args=(stage,),
            batch_size=batch_size,
            batch_format="pyarrow",
            zero_copy_batch=True,
            compute=ray_data.ActorPoolStrategy(min_size=low, max_size=high),
            num_cpus=num_cpus,
            **_restart_args(ds.map_batches),
        )
