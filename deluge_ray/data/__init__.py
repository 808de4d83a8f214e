"""Ray Data adapter: ``LLMClient.process_dataset(ds)`` as a ``map_batches`` stage.

The stage's actors send through the same RateLimiter, cache, retry policy and request
runner as every other client of a key, so a Ray Data job, a notebook and a
``deluge-ray run`` share one quota. ``_columns`` states the output column contract,
``_rows`` reads a row's prompt, ``_stage`` is the actor-side callable, ``_sizing`` bounds
the actor pool and ``_plan`` builds the transform on the driver. Needs the ``data`` extra
(``pip install 'deluge-ray[data]'``: pandas and pyarrow); importing this package does not.
"""

from ._columns import OUTPUT_COLUMNS, RAW_RESPONSE_COLUMN
from ._plan import process_dataset

__all__ = ["OUTPUT_COLUMNS", "RAW_RESPONSE_COLUMN", "process_dataset"]
