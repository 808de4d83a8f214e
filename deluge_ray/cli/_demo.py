"""``deluge-ray demo``: the whole product in under a minute, with no API key.

It starts the bundled mock provider on 127.0.0.1 (enforcing a per-second-quantized rate
limit, with realistic latency and a sprinkle of server errors), writes a prompt file,
and runs it through exactly the code path of ``deluge-ray run`` on an embedded Ray:
a shared RateLimiter actor, ProviderCaller actors, the live progress display, and a
results file. At the end it prints the summary and what the mock itself saw, which is
the independent check that the client stayed under the limit.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

__all__ = ["run_demo"]

_TOPICS = ["rivers", "volcanoes", "comets", "bees", "glaciers", "deserts", "tides", "forests"]


def _write_prompts(path: Path, count: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(count):
            topic = _TOPICS[i % len(_TOPICS)]
            record = {"id": f"demo-{i:05d}", "prompt": f"Give fact number {i} about {topic}."}
            fh.write(json.dumps(record) + "\n")


def run_demo(
    *,
    prompts: int = 3_000,
    rpm: int = 9_000,
    output_dir: str = "deluge-ray-demo",
    progress: str = "rich",
) -> int:
    """Run the demo; returns the process exit status."""
    from rich.console import Console

    from ..mock import Faults, Latency, Limits, MockConfig, MockProvider, use_mock
    from ._run import JobOptions, run_job
    from ._tables import print_table

    console = Console()
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    prompt_file, result_file = out / "prompts.jsonl", out / "results.jsonl"
    _write_prompts(prompt_file, prompts)
    result_file.unlink(missing_ok=True)  # the demo always starts fresh

    config = MockConfig(
        limits=Limits(rpm=rpm),
        latency=Latency.lognormal(median_ms=120, p99_ms=600),
        faults=Faults.spread(0.01),  # 1% server errors, to show retries at work
        seed=7,
    )
    with MockProvider(config) as mock, use_mock(mock):
        console.print(
            f"[bold]deluge-ray demo[/]: mock provider at {mock.url} limiting to {rpm:,} "
            f"requests/min per key (enforced per second); {prompts:,} prompts via Ray."
        )
        options = JobOptions(
            input=str(prompt_file),
            model="gpt-4.1-mini",
            output=str(result_file),
            rpm=rpm,
            tpm=10_000_000,
            max_concurrent=256,
            max_new_tokens=64,
            progress="manual" if progress == "none" else progress,
            show_progress=progress != "none",
        )
        summary = asyncio.run(run_job(options))
        seen = mock.stats()
    print_table("deluge-ray demo: client", summary.rows())
    print_table(
        "deluge-ray demo: what the mock provider saw",
        [
            ("requests received", f"{seen['requests']:,}"),
            ("429s sent", f"{seen['rate_limited']:,}"),
            ("injected server errors", f"{sum(seen['faults'].values()):,}"),
            ("peak admitted in one second", f"{seen['peak_admitted_in_one_second']:,}"),
            (
                "most the limit admits in one second",
                f"{config.limits.max_admitted_in_one_second:,.0f}",
            ),
            ("limit per second (average)", f"{rpm / 60:,.0f}"),
        ],
    )
    console.print(f"results: [bold]{result_file.resolve()}[/]")
    return 0 if summary.done == prompts else 1
