"""Transport: getting a request to a provider and its answer back.

- ``_retry``: the one retry policy (which errors retry, the jittered, capped backoff, the
  ``retry-after`` parser, header lower-casing).
- ``_runner``: :class:`RequestRunner`, Ray-free: lease capacity, build the request, send it,
  parse the answer, retry, fall back to another model, blocklist a model.
- ``_caller``: :class:`BatchCaller`, what a ``ProviderCaller`` actor does (the actor is its
  Ray shell): serve a batch's items concurrently and stream their results back.
- ``_result_stream``: the one result-batching loop (collect for 30 ms, a lone item at once)
  used by ``ProviderCaller`` and ``SubAgent``.
- ``_text_stream``: a runner whose requests stream, passing each piece of text on as it
  arrives (agent loops' ``on_text_delta``), with a reset after a failed attempt.
- ``_session``: one aiohttp session and the lease holders of an actor (used by
  ``ProviderCaller`` and ``SubAgent``).
- ``_work``: the records that travel between the driver and the callers (``ModelRoute``,
  ``CallSpec``, ``WorkItem``, ``WorkBatch``, ``WorkResult``).
- ``_http``: driver-side sends with retries for the helper endpoints (batch jobs, uploads,
  background polling, embeddings, rerank).
- ``_background``: background-mode (Responses API) polling.
- ``_uploads``: provider file uploads behind ``File.as_remote`` (the prompt model does no I/O).
- ``_batch_jobs``: provider batch jobs (public path: ``deluge_ray.batches``).
"""
