"""The order fallback models are tried in, as lm-deluge 0.0.168 tries them.

A client's ``fallback_models`` join its routes with weight 0. A request that has them
walks a *chain*: the model drawn for its first attempt, then each fallback in the order
given (wrapping around, skipping blocklisted models). An error that calls for another
model moves one step along the chain; a retryable error stays on the model unless the
attempts left would no longer cover one try of every untried model in the chain, in
which case it moves on too. The request may make at least one attempt per model in the
chain, however small ``max_attempts`` is.
"""

from __future__ import annotations

from collections.abc import Collection

from ._work import CallSpec, ModelRoute

__all__ = ["FallbackChain"]


class FallbackChain:
    """One request's walk along its models; ``None`` from :meth:`of` when it has no fallbacks.

    >>> from types import SimpleNamespace as NS
    >>> routes = [NS(model=NS(id=m), weight=w) for m, w in (("a", 1), ("b", 0), ("c", 0))]
    >>> chain = FallbackChain.of(NS(routes=routes), routes[0])
    >>> [chain.step(blocklisted=set()).model.id for _ in range(3)]
    ['b', 'c', 'a']
    """

    def __init__(self, routes: list[ModelRoute]) -> None:
        self.routes = routes
        self.position = 0
        self.tried: set[str] = set()

    @classmethod
    def of(cls, spec: CallSpec, first: ModelRoute | None) -> FallbackChain | None:
        """The chain starting at ``first`` (the route drawn by weight), if ``spec`` has fallbacks."""
        fallbacks = [r for r in spec.routes if r.weight == 0]
        if first is None or not fallbacks:
            return None
        return cls([first, *(r for r in fallbacks if r.model.id != first.model.id)])

    def attempt_budget(self, max_attempts: int) -> int:
        """Attempts the request may make: at least one per model in the chain."""
        return max(max_attempts, len(self.routes))

    def must_move_on(self, attempts_left: int, blocklisted: Collection[str]) -> bool:
        """Whether a retry on the current model would leave an untried model no attempt."""
        self.tried.add(self.routes[self.position].model.id)
        untried = {r.model.id for r in self.routes} - self.tried - set(blocklisted)
        return attempts_left - 1 <= len(untried)

    def step(self, blocklisted: Collection[str]) -> ModelRoute | None:
        """The next model in the chain that is not blocklisted (``None`` if none is left)."""
        self.tried.add(self.routes[self.position].model.id)
        count = len(self.routes)
        for offset in range(1, count + 1):
            candidate = (self.position + offset) % count
            if self.routes[candidate].model.id not in blocklisted:
                self.position = candidate
                return self.routes[candidate]
        return None
