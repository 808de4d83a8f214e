"""Provider batch jobs (OpenAI and Anthropic batch APIs), at lm-deluge's import path.

The implementation lives in :mod:`deluge_ray.transport._batch_jobs`.
"""

from __future__ import annotations

from .transport._batch_jobs import (
    BATCH_DISCOUNT,
    BATCH_PROVIDERS,
    submit_batch_job,
    wait_for_batch_job,
)

__all__ = ["BATCH_DISCOUNT", "BATCH_PROVIDERS", "submit_batch_job", "wait_for_batch_job"]
