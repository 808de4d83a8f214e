"""Ray actor shells of deluge_ray, installed as ``deluge_ray.actors``.

Each module holds only a ``@ray.remote`` class (and its ``get_*`` helper) wrapped around a
plain class that does the work and is tested without Ray:

- ``provider_caller.ProviderCaller`` around ``deluge_ray.transport._caller.BatchCaller``;
- ``sub_agent.SubAgent`` around ``deluge_ray.agents._host.LoopHost``;
- ``rate_limiter`` and ``cache_actor``: the shared limiter and cache actors.

``_placement`` (which node each actor runs on) serves the shells; the collector settings
of the hot actors' processes are ``deluge_ray._process_gc``'s (the mock's process uses
them too).
"""
