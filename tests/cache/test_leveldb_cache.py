"""LevelDBCache specifics: temporary directories, the optional dependency, exclusive access."""

from __future__ import annotations

import os
import sys

import pytest

from deluge_ray.cache import LevelDBCache
from deluge_ray.errors import CacheError

from .helpers import assert_same_response, conversation, response


def test_path_none_uses_a_temporary_directory_removed_on_close():
    cache = LevelDBCache()
    prompt = conversation(1)
    cache.put(prompt, response(1))
    assert_same_response(cache.get(prompt), response(1), prompt)
    assert os.path.isdir(cache.path)
    cache.close()
    assert not os.path.exists(cache.path)
    cache.close()  # idempotent
    with pytest.raises(CacheError, match="closed"):
        cache.get(prompt)


def test_given_path_is_kept_on_close(tmp_path):
    with LevelDBCache(tmp_path / "db") as cache:
        cache.put(conversation(1), response(1))
    assert (tmp_path / "db").is_dir()


def test_missing_plyvel_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "plyvel", None)  # makes `import plyvel` fail
    with pytest.raises(ImportError, match=r"pip install 'deluge-ray\[leveldb\]'"):
        LevelDBCache()


def test_second_open_of_a_locked_directory_is_a_cache_error(tmp_path):
    with LevelDBCache(tmp_path / "db"):
        with pytest.raises(CacheError, match="cannot open"):
            LevelDBCache(tmp_path / "db")
