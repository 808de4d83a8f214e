"""API keys: read on the driver, shipped to actors masked, identified by fingerprint.

Keys never travel through ``runtime_env`` (Ray writes its env_vars to world-readable logs)
and never appear in a repr, a log line, an error message or an actor name. They are read
from the environment of the process that builds the client, wrapped in :class:`Secret`
(whose ``repr``/``str`` are masked), and passed to ProviderCaller actors as ordinary
arguments. Limiters are named after :func:`key_fingerprint`, a short one-way hash.
"""

from __future__ import annotations

import hashlib
import os

from .errors import MissingAPIKeyError

__all__ = ["Secret", "key_fingerprint", "read_api_key"]


class Secret:
    """A string that refuses to show itself.

    >>> s = Secret("sk-live-123")
    >>> s
    Secret('********')
    >>> s.reveal()
    'sk-live-123'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value; call only where it is put on the wire."""
        return self._value

    def fingerprint(self) -> str:
        """A short, stable, one-way identifier for this secret."""
        return key_fingerprint(self._value)

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):  # pickles (for Ray) without exposing the value in reprs
        return (Secret, (self._value,))


def key_fingerprint(key: str | None) -> str:
    """A 12-hex-digit fingerprint of ``key``: safe in actor names and logs.

    ``None`` or an empty key (a keyless local server) fingerprints as ``"nokey"``.

    >>> key_fingerprint("abc") == key_fingerprint("abc") != key_fingerprint("abd")
    True
    """
    if not key:
        return "nokey"
    return hashlib.sha256(b"deluge_ray:" + key.encode()).hexdigest()[:12]


def read_api_key(env_var: str | None, *, model: str | None = None) -> Secret | None:
    """Read the key named by ``env_var`` from this process's environment.

    Returns ``None`` when ``env_var`` is ``None`` (a model that needs no key, e.g. a local
    vLLM server). Raises :class:`MissingAPIKeyError`, naming the variable, when it is unset.
    """
    if env_var is None:
        return None
    value = os.environ.get(env_var)
    if not value:
        raise MissingAPIKeyError(env_var, model)
    return Secret(value)
