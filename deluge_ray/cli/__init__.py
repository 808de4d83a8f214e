"""The ``deluge-ray`` command line: ``run``, ``demo``, ``status`` and ``mock-server``.

- ``_main``: argument parsing and the subcommands' entry points (:func:`main`).
- ``_run``: the resumable job behind ``deluge-ray run``.
- ``_data_engine``: ``run --engine data``, the same job as a Ray Data pipeline.
- ``_jobfile``: reading prompt inputs (JSONL, CSV, Parquet): each line a record or a
  numbered problem; ``_sources`` (a file, a directory, a glob), ``_parquet`` (batches of
  rows), ``_records`` (what reading yields).
- ``_openai_batch``: OpenAI Batch API request lines in, batch-output lines out.
- ``_output_rows``: the rows each ``--output-format`` writes.
- ``_results``: the results file: rows written whole, repaired and scanned on resume.
- ``_inflight``: ``OUTPUT.inflight``, what a killed run had in flight.
- ``_demo``: ``deluge-ray demo`` (the mock provider, a prompt file and ``run``, end to end).
- ``_status``: ``deluge-ray status`` (every RateLimiter of a running cluster; never starts one).
- ``_tables``: the summary tables every subcommand prints.
"""

from __future__ import annotations

from ._main import main

__all__ = ["main"]
