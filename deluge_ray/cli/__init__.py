"""The ``deluge-ray`` command line: ``run``, ``demo``, ``status`` and ``mock-server``.

- ``_main``: argument parsing and the subcommands' entry points (:func:`main`).
- ``_run``: the resumable job behind ``deluge-ray run``.
- ``_jobfile``: reading prompt files (JSONL, CSV): each line a record or a numbered problem.
- ``_results``: the results file: rows written whole, repaired and scanned on resume.
- ``_demo``: ``deluge-ray demo`` (the mock provider, a prompt file and ``run``, end to end).
- ``_status``: ``deluge-ray status`` (every RateLimiter of a running cluster; never starts one).
- ``_tables``: the summary tables every subcommand prints.
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
