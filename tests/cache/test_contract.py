"""The cache contract, run against SqliteCache, LevelDBCache and DistributedDictCache (dict and actor)."""

from __future__ import annotations

import warnings

import pytest

from deluge_ray.cache import BatchCache, Cache, CorruptCacheEntryWarning

from .helpers import assert_same_response, conversation, response


def test_put_then_get_round_trips_text_tool_calls_thinking_and_usage(backend):
    cache = backend.open()
    assert isinstance(cache, Cache) and isinstance(cache, BatchCache)
    prompt = conversation(1)
    assert cache.get(prompt) is None
    original = response(1, prompt)
    cache.put(prompt, original)
    # A different but equal conversation object finds it: keys are content fingerprints.
    again = conversation(1)
    assert_same_response(cache.get(again), original, again)
    assert original.local_cache_hit is False  # the stored object is not modified


def test_batches_return_hits_and_misses_in_order(backend):
    cache = backend.open()
    prompts = [conversation(i) for i in range(6)]
    originals = [response(i, p) for i, p in enumerate(prompts)]
    cache.put_many([(prompts[i], originals[i]) for i in (0, 2, 5)])
    hits = cache.get_many(prompts)
    assert [h is not None for h in hits] == [True, False, True, False, False, True]
    for i in (0, 2, 5):
        assert_same_response(hits[i], originals[i], prompts[i])
    assert cache.get_many([]) == []


def test_entries_persist_across_instances(backend):
    prompt = conversation(7)
    original = response(7, prompt)
    backend.open().put(prompt, original)
    assert_same_response(backend.open().get(prompt), original, prompt)


def test_cache_key_namespaces_are_separate(backend):
    prompt = conversation(1)
    first = response(1, prompt)
    backend.open("alpha").put(prompt, first)
    beta = backend.open("beta")
    assert beta.get(prompt) is None
    second = response(2, prompt)
    beta.put(prompt, second)
    assert_same_response(backend.open("beta").get(prompt), second, prompt)
    assert_same_response(backend.open("alpha").get(prompt), first, prompt)


def test_include_request_params_separates_entries_by_request_key(backend):
    prompt = conversation(3)
    cold, hot = response(30, prompt), response(31, prompt)
    cache = backend.open(include_request_params=True)
    cache.put(prompt, cold, request_key="temp=0")
    assert cache.get(prompt, request_key="temp=1") is None
    cache.put_many([(prompt, hot)], request_key="temp=1")
    assert_same_response(cache.get(prompt, request_key="temp=0"), cold, prompt)
    assert_same_response(cache.get_many([prompt], request_key="temp=1")[0], hot, prompt)


def test_without_the_option_request_keys_are_ignored(backend):
    # The reference keys by content alone: changing sampling params still hits.
    prompt = conversation(4)
    original = response(4, prompt)
    cache = backend.open()
    cache.put(prompt, original, request_key="temp=0")
    assert_same_response(cache.get(prompt, request_key="temp=1"), original, prompt)
    assert_same_response(cache.get(prompt), original, prompt)


def test_only_successful_responses_are_stored(backend):
    cache = backend.open()
    failed = conversation(1)
    cache.put(failed, response(1, failed, error=True))
    assert cache.get(failed) is None
    ok = conversation(2)
    cache.put_many([(failed, response(1, failed, error=True)), (ok, response(2, ok))])
    hits = cache.get_many([failed, ok])
    assert hits[0] is None and hits[1] is not None
    # an error never overwrites a good entry either
    cache.put(ok, response(2, ok, error=True))
    assert_same_response(cache.get(ok), response(2, ok), ok)


@pytest.mark.parametrize(
    "garbage",
    [b"\x01\xc1\xc1 not msgpack", b"\x09unknown format", b"\x01" + b"\x93\x01\x02\x03"],
)
def test_corrupt_entries_are_misses_reported_once(backend, garbage):
    cache = backend.open()
    good, bad1, bad2 = conversation(1), conversation(2), conversation(3)
    cache.put(good, response(1, good))
    backend.write_raw(cache, cache.key_for(bad1), garbage)
    backend.write_raw(cache, cache.key_for(bad2), garbage)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hits = cache.get_many([bad1, good, bad2])
        assert cache.get(bad1) is None
    assert hits[0] is None and hits[2] is None
    assert_same_response(hits[1], response(1, good), good)
    reports = [w for w in caught if issubclass(w.category, CorruptCacheEntryWarning)]
    assert len(reports) == 1
    assert cache.key_for(bad1) in str(reports[0].message)
    assert cache.corrupt_entries == 3
    # a fresh response replaces the damaged entry
    cache.put(bad1, response(2, bad1))
    assert_same_response(cache.get(bad1), response(2, bad1), bad1)
