"""Durable swarms: a swarm's loops recorded as they go, so the same call resumes after a crash.

``process_agent_loops_async(..., checkpoint=...)`` takes a path (a SQLite file), a
:class:`~deluge_ray.cache.SqliteCache`, a :class:`~deluge_ray.cache.DistributedDictCache`
or a CacheActor handle (:func:`~deluge_ray.actors.cache_actor.get_cache_actor`). Two things
are kept there:

* **the journal** – each loop's conversation after every completed round and, once it has
  finished without an error, its final response. It is written on the driver from the
  checkpoint events SubAgents already send home (:class:`Journal`): events only mark the
  loop's latest state in memory, and a writer thread stores whatever accumulated in one
  transaction (one ``put_many`` for a CacheActor), so a burst of events costs one write.
* **the replies** – every model reply the SubAgents receive, stored before the loop goes
  on (:class:`SwarmReplies`, consulted before each model call). Checkpoints reach the
  driver in batches; a reply received after the last recorded round but before the crash
  is found here on the rerun instead of being paid for again. So a rerun re-sends at most
  one call per loop that was in flight at the crash: the one whose answer never arrived.

**Which records a call finds** (:func:`swarm_key`): a SHA-256 over the client's models and
sampling parameters, the request options (``output_schema``, ``cache``, ``service_tier``),
``max_rounds``, ``max_turns_warning``, the names of the tools, and the fingerprint of every
prompt in order. The same call finds its records; change any of those and it starts
afresh, never mixing another call's loops in. Callbacks, ``tool_timeout``, concurrency and
the number of actors are not part of it.

**On the rerun** a loop the journal has as finished is returned from it (its response marked
``local_cache_hit=True``, the client's ``postprocess`` applied) without an actor or a
request; an unfinished one restarts from its last recorded round. A loop that ended with
an error is recorded only up to its last good round, so the rerun tries it again. Loops
whose prompts are identical are told apart: their first model call is never answered from
the replies (each gets its own sample, as without a checkpoint). Records stay after the
swarm ends: the same call again answers every loop from them; a new file (or
``cache_key``) runs afresh.

**What it costs and where it must live.** One journal write per batch of events on the
driver, and one reply write per model call in the SubAgents (the client's own cache, if
it has one, is still looked up and written as well). SubAgents open a path themselves, so
it is made absolute; on a cluster of several machines it must be on storage every node
mounts, or use a CacheActor.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import msgpack

from ..errors import ConfigurationError
from ..prompt import Conversation, Message

if TYPE_CHECKING:
    from ..api_requests import APIResponse
    from ._context import AgentContext
    from ._options import LoopOptions
    from ._records import LoopEvent

__all__ = [
    "SWARM_NAMESPACE",
    "CheckpointStore",
    "DurableRun",
    "Journal",
    "LoopRecord",
    "SwarmReplies",
    "duplicated_prompts",
    "durable_context",
    "open_checkpoint",
    "swarm_key",
    "tool_names",
]

# Keys of a swarm's records: f"{prefix}{SWARM_NAMESPACE}:{swarm key}:loop:{index}".
SWARM_NAMESPACE = "deluge-ray-swarm"
_RECORD_VERSION = 1


# ---- where records live ------------------------------------------------------------------
class CheckpointStore:
    """A str -> bytes store for a swarm's journal, and the cache its replies go to.

    Built by :func:`open_checkpoint`; ``read`` and ``write`` are batch operations (one
    query, one transaction or one actor call each).
    """

    def __init__(
        self, kv: Any, prefix: str, replies_backend: Any, *, owned: bool, raw: bool
    ) -> None:
        self._kv = kv  # a SqliteKV (raw), or a DistributedDictCache: its raw batch methods
        self._read = kv.get_many if raw else kv._read_many
        self._write = kv.put_many if raw else kv._write_many
        self._prefix = prefix
        self._replies_backend = replies_backend  # a path, or the actor / dict store
        self._owned = owned  # whether close() closes the file

    def key(self, swarm: str, index: int) -> str:
        """The journal key of loop ``index`` of swarm ``swarm``."""
        return f"{self._prefix}{SWARM_NAMESPACE}:{swarm}:loop:{index}"

    def read(self, keys: Sequence[str]) -> list[bytes | None]:
        """Values of ``keys`` (``None`` where absent): one query, or one actor call."""
        return list(self._read(list(keys)))

    def write(self, items: Sequence[tuple[str, bytes]]) -> None:
        """Store ``items`` in one transaction, or one actor call."""
        self._write(list(items))

    def replies(self, swarm: str) -> Any:
        """The cache the SubAgents keep this swarm's replies in (it travels to them)."""
        from ..cache import DistributedDictCache, SqliteCache

        namespace = f"{self._prefix}{SWARM_NAMESPACE}:{swarm}:replies"
        if isinstance(self._replies_backend, str):
            return SqliteCache(self._replies_backend, namespace)
        return DistributedDictCache(self._replies_backend, cache_key=namespace)

    def close(self) -> None:
        """Close the file this store opened (a cache the caller passed stays open)."""
        if self._owned:
            self._kv.close()


def _is_actor_handle(value: Any) -> bool:
    try:
        from ray.actor import ActorHandle
    except ImportError:
        return False
    return isinstance(value, ActorHandle)


def open_checkpoint(checkpoint: Any) -> CheckpointStore:
    """The store behind ``checkpoint=``; a :class:`ConfigurationError` saying what is
    accepted for anything else (checked before any actor starts or request is sent)."""
    from ..cache import DistributedDictCache, SqliteCache
    from ..cache._sqlite_kv import SqliteKV
    from ..errors import CacheError

    if isinstance(checkpoint, SqliteCache):
        checkpoint = checkpoint.path
    if isinstance(checkpoint, (str, os.PathLike)):
        given = os.fspath(checkpoint)
        if not given or os.path.isdir(given):
            what = "is a directory" if given else "is empty"
            raise ConfigurationError(
                f"checkpoint={given!r} {what}; give the path of a SQLite file "
                "(e.g. os.path.join(folder, 'swarm.sqlite')), created if missing."
            )
        # Absolute: SubAgents open it too, from their own working directories. On a
        # cluster of several machines it must be on storage every node mounts.
        path = os.path.abspath(given)
        try:
            kv = SqliteKV(path)
        except CacheError as exc:
            raise ConfigurationError(
                f"checkpoint={given!r} cannot be opened as a SQLite file ({exc}); give a "
                "writable path (a new file is created)."
            ) from exc
        return CheckpointStore(kv, "", path, owned=True, raw=True)
    if _is_actor_handle(checkpoint):
        checkpoint = DistributedDictCache(checkpoint)
    if isinstance(checkpoint, DistributedDictCache):
        prefix = f"{checkpoint.cache_key}:"
        return CheckpointStore(checkpoint, prefix, checkpoint.cache, owned=False, raw=False)
    raise ConfigurationError(
        f"checkpoint must be the path of a SQLite file, a SqliteCache, a "
        f"DistributedDictCache or a CacheActor handle (get_cache_actor(name)); got "
        f"{type(checkpoint).__name__}."
    )


# ---- which call this is ------------------------------------------------------------------
def tool_names(tools: Sequence[Any] | None) -> list[str]:
    """The names a swarm's tools go by (an MCP server by its own name), sorted."""
    names = []
    for tool in tools or ():
        if isinstance(tool, dict):
            names.append(str(tool.get("name") or tool.get("type") or sorted(tool)))
        else:
            names.append(str(getattr(tool, "name", type(tool).__name__)))
    return sorted(names)


def _plain_option(value: Any) -> Any:
    from ..cache._keys import _plain

    schema = getattr(value, "model_json_schema", None)  # a pydantic class: its schema
    if isinstance(value, type) and callable(schema):
        return schema()
    return _plain(value)


def swarm_key(
    context: AgentContext,
    conversations: Sequence[Conversation],
    names: Sequence[str],
    max_rounds: int,
    options: LoopOptions,
) -> str:
    """The key a swarm's records are stored under (see the module docstring).

    >>> from deluge_ray.agents._options import LoopOptions
    >>> class C:
    ...     request_key = "m"
    >>> one = swarm_key(C(), [Conversation().user("a")], ["t"], 3, LoopOptions())
    >>> one == swarm_key(C(), [Conversation().user("a")], ["t"], 3, LoopOptions())
    True
    >>> one == swarm_key(C(), [Conversation().user("b")], ["t"], 3, LoopOptions())
    False
    """
    prompts = hashlib.sha256()
    for conversation in conversations:
        prompts.update(conversation.fingerprint.encode())
    payload = {
        "v": _RECORD_VERSION,
        "models_and_sampling": context.request_key,
        "request_options": {k: _plain_option(v) for k, v in options.request_options.items()},
        "max_rounds": max_rounds,
        "max_turns_warning": options.max_turns_warning,
        "tools": list(names),
        "prompts": prompts.hexdigest(),
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# ---- one loop's record -------------------------------------------------------------------
@dataclass
class LoopRecord:
    """A loop as far as the journal has it: its conversation after ``rounds_done`` rounds,
    and its final response once it finished without an error."""

    messages: list[Message]
    rounds_done: int
    response: APIResponse | None = None

    @property
    def finished(self) -> bool:
        """Whether the loop ended (the rerun returns it as recorded)."""
        return self.response is not None

    def encode(self) -> bytes:
        """msgpack of the messages' logs, the rounds and the cache codec's response bytes."""
        from ..cache._codec import encode_response

        return msgpack.packb(
            {
                "v": _RECORD_VERSION,
                "rounds": self.rounds_done,
                "messages": [m.to_log() for m in self.messages],
                "response": encode_response(self.response) if self.response else None,
            },
            use_bin_type=True,
        )

    @classmethod
    def decode(cls, data: bytes) -> LoopRecord | None:
        """The record in ``data``, or ``None`` if it is unreadable (the loop runs again)."""
        from ..cache._codec import decode_response

        try:
            fields = msgpack.unpackb(data, raw=False)
            if fields.get("v") != _RECORD_VERSION:
                return None
            messages = [Message.from_log(m) for m in fields["messages"]]
            response = None
            if fields.get("response") is not None:
                prompt = messages[:-1] if messages and messages[-1].role == "assistant" else []
                response = decode_response(fields["response"], Conversation(list(prompt)))
            return cls(messages, int(fields["rounds"]), response)
        except Exception:
            return None

    def conversation(self) -> Conversation:
        """The loop's conversation as recorded (a new object)."""
        return Conversation(list(self.messages))


# ---- the driver side: recording events ---------------------------------------------------
class Journal:
    """Records one swarm's loops in a :class:`CheckpointStore`; see the module docstring.

    :meth:`load` reads what an earlier run of the same call recorded. :meth:`on_event` (the
    pool's event callback, on its thread) only notes a loop's latest state; the writer
    thread stores each batch of noted states in one write. :meth:`close` writes what is
    left and stops the thread.
    """

    def __init__(self, store: CheckpointStore, swarm: str, size: int) -> None:
        self.store = store
        self.swarm = swarm
        self._size = size
        self._pool_to_swarm: list[int] = list(range(size))
        self._pending: dict[int, LoopRecord] = {}
        self._cond = threading.Condition()
        self._closing = False
        self._writing = False
        self.writes = 0  # batches written (one transaction each)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="deluge-ray-journal", daemon=True)
        self._thread.start()

    def load(self) -> dict[int, LoopRecord]:
        """Loop index -> record, for the loops an earlier run of this call recorded."""
        keys = [self.store.key(self.swarm, i) for i in range(self._size)]
        found: dict[int, LoopRecord] = {}
        for index, data in enumerate(self.store.read(keys)):
            record = LoopRecord.decode(data) if data is not None else None
            if record is not None:
                found[index] = record
        return found

    def running(self, swarm_indexes: Sequence[int]) -> None:
        """The pool's loop ``j`` is the swarm's loop ``swarm_indexes[j]``."""
        self._pool_to_swarm = list(swarm_indexes)

    def on_event(self, event: LoopEvent, before: list[Message]) -> None:
        """Note the loop's state after ``event`` (``before``: its messages until then)."""
        if event.error is not None:
            return  # a failed loop stays at its last good round
        response = event.response
        if response is not None and response.is_error:
            return
        if response is not None:  # copied now: the pool goes on to edit it
            response = replace(response, prompt={})
        record = LoopRecord(before + list(event.new_messages), event.rounds_done, response)
        with self._cond:
            self._pending[self._pool_to_swarm[event.index]] = record
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, {}
                self._writing = True
            try:
                rows = [(self.store.key(self.swarm, i), r.encode()) for i, r in batch.items()]
                self.store.write(rows)
                self.writes += 1
            except Exception as exc:  # kept, reported at close: the swarm itself goes on
                self.error = exc
            finally:
                with self._cond:
                    self._writing = False
                    self._cond.notify_all()

    def close(self) -> None:
        """Write what is noted, stop the writer thread, close the store's file."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        self.store.close()
        if self.error is not None:
            warnings.warn(
                f"the swarm's checkpoint could not be written ({type(self.error).__name__}: "
                f"{self.error}); its results are complete, but a rerun may run loops again",
                RuntimeWarning,
                stacklevel=3,
            )


# ---- the actor side: replies kept so a rerun does not pay twice --------------------------
class SwarmReplies:
    """The cache a durable swarm's SubAgents consult before each model call.

    Looks in the swarm's own replies first, then in the client's cache (if it has one);
    stores in both. Conversations in ``skip`` (prompts given more than once in the swarm)
    never use the swarm's replies, so identical prompts still get a sample each.
    """

    #: So that the SubAgent passes its request key, which the client's cache may want.
    include_request_params = True

    def __init__(self, own: Any, skip: frozenset[str], client_cache: Any = None) -> None:
        self.own = own
        self.skip = skip
        self.client_cache = client_cache
        self._io: tuple[Any, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"own": self.own, "skip": self.skip, "client_cache": self.client_cache}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["own"], state["skip"], state["client_cache"])  # type: ignore[misc]

    def _ios(self, request_key: str) -> tuple[Any, Any]:
        if self._io is None:
            from ..client._cache_io import CacheIO

            client = self.client_cache
            self._io = (
                CacheIO(self.own, request_key=""),
                CacheIO(client, request_key=request_key) if client is not None else None,
            )
        return self._io

    def _usable(self, prompts: Sequence[Any]) -> list[bool]:
        if not self.skip:
            return [True] * len(prompts)
        return [p.fingerprint not in self.skip for p in prompts]

    async def aget_many(self, prompts: Sequence[Any], request_key: str = "") -> list[Any]:
        """The stored reply (or ``None``) for each conversation."""
        own, client = self._ios(request_key)
        usable = self._usable(prompts)
        mine = [p for p, ok in zip(prompts, usable, strict=True) if ok]
        hits = iter(await own.lookup(mine)) if mine else iter(())
        found = [next(hits) if ok else None for ok in usable]
        missing = [i for i, hit in enumerate(found) if hit is None]
        if client is not None and missing:
            hits = await client.lookup([prompts[i] for i in missing])
            for i, hit in zip(missing, hits, strict=True):
                found[i] = hit
        return found

    async def aput_many(self, pairs: Sequence[tuple[Any, Any]], request_key: str = "") -> None:
        """Store replies, before the loop that got them goes on."""
        own, client = self._ios(request_key)
        usable = self._usable([p for p, _ in pairs])
        await own.store([pair for pair, ok in zip(pairs, usable, strict=True) if ok])
        if client is not None:
            await client.store(list(pairs))


def duplicated_prompts(conversations: Sequence[Conversation]) -> frozenset[str]:
    """Fingerprints of the prompts that occur more than once."""
    seen: set[str] = set()
    twice: set[str] = set()
    for conversation in conversations:
        fingerprint = conversation.fingerprint
        (twice if fingerprint in seen else seen).add(fingerprint)
    return frozenset(twice)


def durable_context(
    context: AgentContext, store: CheckpointStore, swarm: str, skip: frozenset[str]
) -> AgentContext:
    """``context`` whose SubAgents keep this swarm's replies (see :class:`SwarmReplies`)."""
    return replace(context, cache=SwarmReplies(store.replies(swarm), skip, context.cache))


# ---- one durable run of a swarm ----------------------------------------------------------
class DurableRun:
    """What :func:`~deluge_ray.agents._swarm.process_agent_loops_async` needs of a
    checkpoint: the loops to run (and where each starts), the loops already finished, the
    context whose SubAgents keep replies, and the journal to record events in."""

    def __init__(self, journal: Journal, records: dict[int, LoopRecord], context: Any) -> None:
        self.journal = journal
        self.context = context
        #: Loop index -> (conversation, final response) of loops finished in the record.
        self.finished = {
            i: (r.conversation(), r.response) for i, r in records.items() if r.finished
        }
        self._records = records

    @classmethod
    async def open(
        cls,
        store: CheckpointStore,
        context: AgentContext,
        conversations: Sequence[Conversation],
        tools: Any,
        max_rounds: int,
        options: LoopOptions,
    ) -> DurableRun:
        """Find this call's records in ``store`` (read on a worker thread: a CacheActor
        is waited for) and start recording."""
        import asyncio

        from ._wire_tools import call_tool_factory, is_tool_factory

        listed = call_tool_factory(tools) if is_tool_factory(tools) else tools
        key = swarm_key(context, conversations, tool_names(listed), max_rounds, options)
        journal = Journal(store, key, len(conversations))
        try:
            records = await asyncio.to_thread(journal.load)
        except BaseException:
            journal.close()
            raise
        replies = durable_context(context, store, key, duplicated_prompts(conversations))
        return cls(journal, records, replies)

    def starts(self, conversations: Sequence[Conversation]) -> tuple[list[int], list, list]:
        """The loops to run: their indexes, conversations (as recorded, or the prompt) and
        rounds done; the journal maps the pool's loops to them from now on."""
        indexes = [i for i in range(len(conversations)) if i not in self.finished]
        starts, rounds = [], []
        for i in indexes:
            record = self._records.get(i)
            starts.append(record.conversation() if record else conversations[i])
            rounds.append(record.rounds_done if record else 0)
        self.journal.running(indexes)
        return indexes, starts, rounds

    def close(self) -> None:
        """Write the last events and close the store."""
        self.journal.close()
