"""Helpers the tests share: example runner, OpenAPI validation, clients, MCP servers.

- ``examples.py``: runs ``examples/*`` scripts as a user would (the one runner).
- ``openapi.py``: validates payloads against OpenAI's schemas, vendored in ``specs/`` (cut by
  ``cut_openapi_spec.py``), so no test reads outside the repository.
"""
