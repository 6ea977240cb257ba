"""Section 2c: the classifier's leave-one-corpus-out matrix.

For every positive corpus (AgentDojo attacks, proctor's generated attacks,
polite reader-addressed requests, Tensor Trust, WASP), the training script
trains a model on every other corpus and the shared benign data, calibrates its
threshold as the shipped model's is calibrated, and measures recall on the
corpus it left out (``held_out``, the figure that counts), beside the recall of
a model trained on all corpora on that corpus's validation split
(``in_corpus``). It runs ``scripts/train_injection_classifier.py --loco`` in a
child process (the script fixes ``PYTHONHASHSEED``), so the figures are the
script's own and the same on every run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_injection_classifier.py"
TIMEOUT_S = 3600


def matrix(*, small: bool = False) -> dict[str, Any]:
    """The matrix as the training script writes it (see its ``leave_one_corpus_out``)."""
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "loco.json"
        command = [sys.executable, str(SCRIPT), "--loco", str(out), *(["--small"] if small else [])]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"training script failed: {done.stderr.strip()[-300:]}")
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def corpora(result: dict[str, Any]) -> list[str]:
    return sorted(result.get("corpora", {}))
