"""``deluge-ray run --engine data``: the job as a Ray Data pipeline, for inputs bigger than memory.

``ray.data.read_parquet`` / ``read_json`` → drop the ids OUTPUT already holds →
``LLMClient.process_dataset`` → the result columns stream back to the driver, which
appends each row to OUTPUT (the same rows, or Batch API lines, as the default engine;
``latency_s``, ``attempts`` and ``cache_write_tokens`` are null, Ray Data's rows carry
none). Nothing gathers the dataset anywhere: blocks stream through the actors and the
driver writes them as they arrive.

**Resume** is the client's cache, per row: every answer is cached as it arrives (by the
stage's actors), the cache is a SQLite file (``--cache``, default ``OUTPUT.cache.sqlite``;
on a multi-node cluster a path every node sees), and a rerun drops the ids already in
OUTPUT before anything is sent, so a row answered before a kill but not yet written is
served from the cache instead of being paid again. Each row needs an ``id`` column (or a
batch file's ``custom_id``): Ray Data does not keep row numbers across blocks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..data._columns import OUTPUT_COLUMNS
from ..errors import ConfigurationError, DelugeError
from ._jobfile import InputProblem, check_input
from ._output_rows import data_row
from ._parquet import prompt_source_column
from ._results import ResultWriter
from ._run import MAX_PROBLEMS_SHOWN, JobOptions, JobSummary, client_for, open_cache, open_output
from ._sources import file_format

__all__ = ["DataEngineError", "default_cache_path", "run_data_job"]


class DataEngineError(DelugeError):
    """The Ray Data pipeline stopped part-way; the rows written so far are kept."""


def default_cache_path(output: str) -> str:
    """The cache ``--engine data`` keeps next to OUTPUT when ``--cache`` names none."""
    return str(Path(output).resolve().with_name(Path(output).name + ".cache.sqlite"))


def _read(files: list[Path], input_name: str) -> Any:
    import ray.data

    kinds = {file_format(f) for f in files}
    # Absolute: the read tasks run in worker processes with their own working directory.
    paths = [str(f.resolve()) for f in files]
    if kinds == {"parquet"}:
        return ray.data.read_parquet(paths)
    if kinds == {"jsonl"}:
        return ray.data.read_json(paths, lines=True, file_extensions=None)
    raise ConfigurationError(
        f"--engine data reads Parquet or JSONL files, one format per run; {input_name} "
        f"holds {', '.join(sorted(kinds))}. Use --engine client for CSV"
    )


def _from_batch_lines(batch: Any) -> Any:
    """Batch API request lines as ``id`` and ``messages`` columns (the body's messages)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    body = batch.column("body")
    return pa.table(
        {
            "id": pc.cast(batch.column("custom_id"), pa.string()),
            "messages": pc.struct_field(body, "messages"),
        }
    )


def _drop_done(batch: Any, done: Any) -> Any:
    """The rows of ``batch`` whose id is not in ``done`` (an Arrow array of strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pc.cast(batch.column("id"), pa.string())
    batch = batch.set_column(batch.column_names.index("id"), "id", ids)
    if len(done) == 0:
        return batch
    return batch.filter(pc.invert(pc.is_in(ids, value_set=done)))


def _with_system(batch: Any, system: str) -> Any:
    import pyarrow as pa

    return batch.append_column("system", pa.array([system] * batch.num_rows, pa.string()))


def _plan(options: JobOptions, files: list[Path], done: set[str], client: Any) -> Any:
    """The lazy dataset of result rows (``id`` + the result columns) still to be written."""
    import pyarrow as pa

    ds = _read(files, options.input)
    try:
        columns = list(ds.columns())
    except Exception as exc:  # Arrow could not make a table of the file
        raise ConfigurationError(
            f"Ray Data could not read {options.input} as a table ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0]}); --engine client reads any JSONL"
        ) from None
    if "custom_id" in columns and "body" in columns:
        ds = ds.map_batches(_from_batch_lines, batch_format="pyarrow")
        columns = ["id", "messages"]
    if "id" not in columns:
        raise ConfigurationError(
            f"--engine data needs an 'id' column (or a batch file's 'custom_id') in "
            f"{options.input}; its columns are {', '.join(columns)}. Add ids, or use "
            "--engine client (which numbers rows)"
        )
    source = prompt_source_column(columns, options.prompt_column, options.input)
    wanted = [c for c in dict.fromkeys(("id", source, "system")) if c in columns]
    ds = ds.select_columns(wanted)
    done_ids = pa.array(sorted(done), pa.string())
    ds = ds.map_batches(_drop_done, fn_kwargs={"done": done_ids}, batch_format="pyarrow")
    system_column = "system" if "system" in columns else None
    if options.system and system_column is None:
        ds = ds.map_batches(
            _with_system, fn_kwargs={"system": options.system}, batch_format="pyarrow"
        )
        system_column = "system"
    kwargs: dict[str, Any] = {"system_column": system_column}
    if source == options.prompt_column:
        kwargs["prompt_column"] = source
    else:
        kwargs["messages_column"] = source
    include_raw = options.output_format == "openai-batch"
    answered = client.process_dataset(ds, include_raw_response=include_raw, **kwargs)
    keep = ["id", *OUTPUT_COLUMNS, *(["raw_response"] if include_raw else [])]
    return answered.select_columns(keep)


def _tally(summary: JobSummary, row: dict[str, Any]) -> None:
    if row["is_error"]:
        summary.failed += 1
        return
    summary.done += 1
    summary.cache_hits += bool(row.get("cache_hit"))
    summary.input_tokens += row.get("input_tokens") or 0
    summary.output_tokens += row.get("output_tokens") or 0
    summary.cached_tokens += row.get("cache_read_tokens") or 0
    if not row.get("cache_hit"):
        summary.cost += row.get("cost") or 0.0


async def run_data_job(
    options: JobOptions,
    *,
    on_problem: Callable[[InputProblem], None] | None = None,
    on_interrupt: Callable[[int], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_resume: Callable[[int, int, int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> JobSummary:
    """Run ``options`` through Ray Data; the same callbacks and summary as ``run_job``.

    ``on_interrupt`` and ``on_resume`` are not called: Ctrl-C stops the pipeline at once
    (rows written so far are kept, answers not yet written are in the cache), and what a
    resumed run skips is reported through ``on_warning``.
    """
    from ..client._runtime import ensure_ray
    from ..models import get_model

    options.validate()
    model = get_model(options.model)
    files = check_input(options.input, exclude=[options.output])
    summary = JobSummary(output=options.output)

    def warn(message: str) -> None:
        if on_warning:
            on_warning(message)

    state = open_output(options, model, summary, warn)
    summary.skipped_existing = len(state.done)  # dropped from the dataset, never sent
    summary.skipped_failed = len(state.failed)
    if state.done:
        warn(
            f"resumed: {len(state.done):,} rows of {options.output} are not sent again; rows "
            "answered before a kill but not written come from the cache"
        )
    writer = ResultWriter(options.output)
    options.cache = options.cache or default_cache_path(options.output)
    cache = open_cache(options)
    ensure_ray(options.address)
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = options.show_progress
    client = client_for(options, cache)
    started = clock()
    try:
        results = _plan(options, files, state.done, client)
        try:
            _write_results(results, options, model.id, writer, summary, on_problem)
        except (DelugeError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a block Arrow cannot read, a task that ran out of retries
            detail = (str(exc).strip().splitlines() or [""])[-1][:300]
            raise DataEngineError(
                f"Ray Data stopped ({type(exc).__name__}: {detail}); the rows written so far "
                "are kept: run the same command again to resume"
            ) from exc
    finally:
        writer.close()
        summary.elapsed = clock() - started
        client.shutdown()
        cache.close()
    return summary


def _write_results(
    results: Any,
    options: JobOptions,
    model: str,
    writer: ResultWriter,
    summary: JobSummary,
    on_problem: Callable[[InputProblem], None] | None,
) -> None:
    """Append each result row as its block arrives; a repeated id is a problem, not a row."""
    seen: set[str] = set()
    for batch in results.iter_batches(batch_format="pyarrow", batch_size=None):
        for row in batch.to_pylist():
            ident = row["id"]
            if ident in seen:
                problem = InputProblem(0, f"duplicate id {ident!r}; only its first row is written")
                summary.bad_input += 1
                summary.duplicates += 1
                if len(summary.problems) < MAX_PROBLEMS_SHOWN:
                    summary.problems.append(str(problem))
                if on_problem:
                    on_problem(problem)
                continue
            seen.add(ident)
            writer.write(data_row(ident, row, options.output_format, model))
            _tally(summary, row)
