"""Response caches: a second run of the same prompts makes no provider requests.

Pass one to ``LLMClient(cache=...)``. Keys are the conversation's content fingerprint in
a ``cache_key`` namespace; sampling parameters are not part of the key unless the cache is
built with ``include_request_params=True``. Only successful responses are stored, hits
come back with ``local_cache_hit=True``, and an unreadable entry is a miss (reported
once per cache), never an exception in the middle of a batch.

* :class:`SqliteCache` — one SQLite file, shared safely by processes and runs.
* :class:`LevelDBCache` — a LevelDB directory (``pip install 'deluge-ray[leveldb]'``).
* :class:`DistributedDictCache` — a dict, a Modal-style dict or a cluster-wide CacheActor.

>>> import os, tempfile
>>> from deluge_ray.cache import SqliteCache
>>> cache = SqliteCache(os.path.join(tempfile.mkdtemp(), "responses.sqlite"))
>>> cache.close()
"""

from __future__ import annotations

from ._codec import CorruptCacheEntryWarning
from ._distributed import DistributedDictCache
from ._keys import entry_key, make_request_key
from ._leveldb import LevelDBCache
from ._protocol import AsyncBatchCache, BatchCache, Cache
from ._sqlite import SqliteCache

__all__ = [
    "AsyncBatchCache",
    "BatchCache",
    "Cache",
    "CorruptCacheEntryWarning",
    "DistributedDictCache",
    "LevelDBCache",
    "SqliteCache",
    "entry_key",
    "make_request_key",
]
