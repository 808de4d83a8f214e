"""``<output>.inflight``: the ids handed to the client whose row may not be written yet.

A SIGKILL of the driver loses the prompts in flight: the provider may have answered (and
billed) them, but their rows never reached the output, so the resumed run sends them
again. This ledger is what lets the resumed run say how many. Before a prompt is handed to
the client its id is appended here (one JSON string per line, flushed, so a kill keeps
it); the output holds the rows that came back. On resume, the ledger's ids without a row
are the prompts that were in flight at the kill: at most that many requests may be paid
twice. A run that ends with nothing in flight (finished, or stopped by Ctrl-C after
finishing what it had sent) deletes the ledger.

A torn last line (the kill landed mid-write) is skipped: its prompt was not yet handed
to the client, since the id is written first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["InflightLedger", "ledger_path"]


def ledger_path(output: str | os.PathLike[str]) -> Path:
    """Where the ledger of ``output`` lives (next to it)."""
    output = Path(output)
    return output.with_name(output.name + ".inflight")


class InflightLedger:
    """Append-only record of the ids sent by one run of ``deluge-ray run``."""

    def __init__(self, output: str | os.PathLike[str]) -> None:
        self.path = ledger_path(output)
        self._fh = None

    def unfinished(self, done: set[str]) -> int:
        """How many ids an earlier run handed to the client without a row in ``done``."""
        if not self.path.exists():
            return 0
        lost: set[str] = set()
        with open(self.path, "rb") as fh:
            for raw in fh:
                try:
                    ident = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue  # a torn last line: that id was never handed over
                if isinstance(ident, str) and ident not in done:
                    lost.add(ident)
        return len(lost)

    def start(self) -> None:
        """Begin this run's ledger (an earlier run's is read by :meth:`unfinished` first)."""
        self._fh = open(self.path, "wb")

    def sent(self, ident: str) -> None:
        """Record that ``ident`` is about to be handed to the client."""
        assert self._fh is not None
        self._fh.write(json.dumps(ident).encode("utf-8", "backslashreplace") + b"\n")
        self._fh.flush()

    def close(self, *, nothing_in_flight: bool) -> None:
        """Close the ledger; delete it when no prompt is left in flight."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if nothing_in_flight:
            self.path.unlink(missing_ok=True)
