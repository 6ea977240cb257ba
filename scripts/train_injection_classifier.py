"""Train proctor's stage-2 prompt-injection classifier and write its model file.

Run ``python scripts/train_injection_classifier.py`` (needs the ``security``
extra: agentdojo, scikit-learn, faker). No network. Fixed seeds, sorted inputs
and ``PYTHONHASHSEED=0`` (the script re-executes itself with it, as some AgentDojo
tools list set members): re-running with the same Python and package versions
writes a byte-identical
``src/proctor/scanners/data/injection_model.bin``. Prints the sha256 of the
training-data manifest, the metrics and the model's size.

Training data (all offline):

- AgentDojo 0.1.35, benchmark v1.2.2, suites ``workspace`` and ``travel`` only:
  the tool outputs of every user task's ground-truth run (AgentDojo runs these
  without a model) with the default, benign injection-vector values; every
  string of the default environments (emails, files, calendar events, hotel
  and restaurant reviews); the injection-task goals of these two suites.
- AgentDojo attack templates ``important_instructions`` (with several user and
  model names), ``ignore_previous``, ``system_message`` (``###(system_message)
  {goal}``) and ``direct`` (``TODO: {goal}``), filled with the goals above and
  put into the tool outputs where AgentDojo puts injections. The last two are
  bare orders with almost no framing; with only the first two in training the
  model passed most of them (28-39 % found on the held-out suites).
- Attack templates and goals written for proctor (``injection_training.attacks``):
  overrides, role and system impersonation, tool-use directives addressed to
  the agent, exfiltration, hidden HTML comments.
- Bare orders written for proctor (``injection_training.attacks.bare_orders``): an
  attacker's goal as an imperative (send a link, change a payment's recipient,
  delete a file, post channel history to a site), behind no label or a short
  one ("TODO:", "Action item:", "[system]"), inside tool-output-like records
  (``data_record``: YAML rows, JSON, e-mails, web pages, calendar entries,
  chat messages).
- Benign text: sentences written for proctor that use attack words ("ignore",
  "instructions", "system", "urgent", "important", "you must", "before you"),
  Faker (seeded) business prose, and Python's own documentation
  (docstrings of a fixed list of stdlib modules and their functions and classes).
- Benign imperatives people write to people (``injection_training.benign.legit_orders``:
  to-do items, action items, requests in e-mails, recipes, notices headed
  "Important:"/"Reminder:"), alone and inside the same kinds of records as the
  bare orders, so the record layout and the labels carry no weight.
- Contrast negatives: for each injected training document whose attack text is
  found, its attack window with the attack's tokens taken out. Without them the
  carrier's own words next to an injection (file names, YAML keys, a recipe in
  the file AgentDojo injects into) learned the attack's weight and clean
  outputs of the same files were flagged.

- Benign texts of every format the security bench measures
  (``benchmarks/security/format_corpus.py``: tables, CSV/TSV, JSON, YAML, logs,
  code, shell output, HTML, records, e-mails, answers, advisories, markdown),
  from the ``train`` half of the installed files (``format_files.part_of``) and
  seed ``FORMAT_SEED``; the bench reads the other half with its own seed.
- Polite off-task requests to the reader of the data, and the requests
  e-mails make of people with the same verbs (``injection_training.polite``).
- Every benign text is reduced to its prose (``structure.prose_view``), as the
  scanner reduces what it reads.

Positive corpora: ``agentdojo``, ``generated`` and ``polite`` train the shipped
model; ``--loco PATH`` writes the leave-one-corpus-out matrix over these and
Tensor Trust and WASP (measurement only: no licence stated / CC BY-NC), read
from local git mirrors (``injection_training.polite``).

Held out entirely, for evaluation only: AgentDojo suites ``banking`` and
``slack`` (their environments, tool outputs and goals); the attack templates
``tool_knowledge`` and ``injecagent``;
``injection_training.benign.EVAL_BENIGN``; ``tests/scanners/cases/*.yaml``. Never used:
microsoft/BIPIA, InjecGuard NotInject, presidio-research (reserved for
independent evaluation).

Model: logistic regression (liblinear, L2) over counts of word unigrams and
bigrams of normalised text (``proctor.scanners.classifier.features``), trained
on windows of at most ``WINDOW`` tokens, the inference unit. Weights are
quantised to int8 with one scale; zero weights are dropped. The threshold is
calibrated on a validation split of the training suites (scored by the
shipped pure-Python scorer, best window per document).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))
from injection_training.dataset import build_dataset, manifest_of
from injection_training.evaluate import evaluate
from injection_training.fit import train
from injection_training.loco import leave_one_corpus_out
from injection_training.settings import OUTPUT

from proctor.scanners.classifier import decode_model


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # some AgentDojo tools list set members: fix string hashing so outputs keep one order
        os.execve(
            sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"}
        )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--small", action="store_true", help="a small subset (for tests)")
    parser.add_argument("--no-eval", action="store_true", help="skip held-out evaluation")
    parser.add_argument(
        "--loco", type=Path, help="write the leave-one-corpus-out matrix (JSON) here, no model"
    )
    options = parser.parse_args()
    started = time.perf_counter()
    if options.loco:
        matrix = leave_one_corpus_out(small=options.small)
        options.loco.write_text(json.dumps(matrix, indent=2, sort_keys=True) + "\n")
        print(json.dumps(matrix, indent=2, sort_keys=True))
        return
    data = build_dataset(small=options.small)
    manifest = manifest_of(data)
    model_bytes, report = train(data, manifest)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_bytes(model_bytes)
    elapsed = time.perf_counter() - started
    print(f"manifest sha256: {manifest}")
    print(f"model: {options.output} ({len(model_bytes)} bytes)")
    print(f"training time: {elapsed:.1f} s")
    print(json.dumps(report, indent=2, sort_keys=True))
    if not options.no_eval and not options.small:
        print(json.dumps(evaluate(decode_model(model_bytes)), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
