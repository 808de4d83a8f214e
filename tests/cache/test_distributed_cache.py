"""DistributedDictCache over plain dicts and Modal-style objects, sync and async."""

from __future__ import annotations

import pytest

from deluge_ray.cache import AsyncBatchCache, DistributedDictCache

from .helpers import assert_same_response, conversation, response


class ModalStyleDict:
    """Has get/put and Modal's `.aio` async variants; records which one was used."""

    def __init__(self):
        self.data: dict[str, bytes] = {}
        self.calls: list[str] = []
        outer = self

        class _Method:
            def __init__(self, name, func):
                self.name, self.func = name, func

            def __call__(self, *args):
                outer.calls.append(self.name)
                return self.func(*args)

            async def aio(self, *args):
                outer.calls.append(self.name + ".aio")
                return self.func(*args)

        self.get = _Method("get", self.data.get)
        self.put = _Method("put", self.data.__setitem__)


def test_plain_dict_holds_bytes_under_namespaced_fingerprint_keys():
    store: dict = {}
    cache = DistributedDictCache(store, cache_key="evals")
    prompt = conversation(1)
    cache.put(prompt, response(1))
    assert list(store) == [f"evals:{prompt.fingerprint}"]
    assert isinstance(store[f"evals:{prompt.fingerprint}"], bytes)


def test_modal_style_object_uses_get_and_put():
    backend = ModalStyleDict()
    cache = DistributedDictCache(backend)
    prompt = conversation(2)
    cache.put(prompt, response(2))
    assert_same_response(cache.get(prompt), response(2), prompt)
    assert backend.calls == ["put", "get"]


async def test_async_variants_use_aio_methods_when_present():
    backend = ModalStyleDict()
    cache = DistributedDictCache(backend)
    assert isinstance(cache, AsyncBatchCache)
    prompts = [conversation(i) for i in range(3)]
    await cache.aput_many([(prompts[0], response(0)), (prompts[2], response(2))])
    hits = await cache.aget_many(prompts)
    assert [h is not None for h in hits] == [True, False, True]
    assert_same_response(await cache.aget(prompts[2]), response(2), prompts[2])
    assert set(backend.calls) == {"put.aio", "get.aio"}


async def test_async_variants_work_on_a_plain_dict():
    cache = DistributedDictCache({})
    prompt = conversation(9)
    await cache.aput(prompt, response(9))
    await cache.aput(conversation(8), response(8, error=True))
    assert_same_response(await cache.aget(prompt), response(9), prompt)
    assert await cache.aget(conversation(8)) is None


def test_objects_without_get_and_put_are_rejected():
    with pytest.raises(TypeError, match=r"\.get\(key\)"):
        DistributedDictCache(42)

    class OnlyGet:
        def get(self, key):
            return None

    with pytest.raises(TypeError, match="put"):
        DistributedDictCache(OnlyGet())
