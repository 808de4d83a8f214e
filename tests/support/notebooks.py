"""Running notebooks in tests: a kernelspec on this very interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def install_kernel_here(prefix: Path, timeout: float) -> Path:
    """Install a ``python3`` kernelspec that runs ``sys.executable`` under ``prefix``.

    Returns the Jupyter data directory to put first on ``JUPYTER_PATH``, so nbclient finds
    this kernel before any other ``python3`` on the machine.
    """
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ipykernel",
            "install",
            "--prefix",
            str(prefix),
            "--name",
            "python3",
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    kernel_dir = prefix / "share" / "jupyter"
    spec = json.loads((kernel_dir / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return kernel_dir
