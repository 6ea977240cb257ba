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
- Attack templates and goals written for proctor (``injection_corpus.py``):
  overrides, role and system impersonation, tool-use directives addressed to
  the agent, exfiltration, hidden HTML comments.
- Bare orders written for proctor (``injection_corpus.bare_orders``): an
  attacker's goal as an imperative (send a link, change a payment's recipient,
  delete a file, post channel history to a site), behind no label or a short
  one ("TODO:", "Action item:", "[system]"), inside tool-output-like records
  (``data_record``: YAML rows, JSON, e-mails, web pages, calendar entries,
  chat messages).
- Benign text: sentences written for proctor that use attack words ("ignore",
  "instructions", "system", "urgent", "important", "you must", "before you"),
  Faker (seeded) business prose, and Python's own documentation
  (docstrings of a fixed list of stdlib modules and their functions and classes).
- Benign imperatives people write to people (``injection_corpus.legit_orders``:
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
  e-mails make of people with the same verbs (``injection_sources``).
- Every benign text is reduced to its prose (``structure.prose_view``), as the
  scanner reduces what it reads.

Positive corpora: ``agentdojo``, ``generated`` and ``polite`` train the shipped
model; ``--loco PATH`` writes the leave-one-corpus-out matrix over these and
Tensor Trust and WASP (measurement only: no licence stated / CC BY-NC), read
from local git mirrors (``injection_sources``).

Held out entirely, for evaluation only: AgentDojo suites ``banking`` and
``slack`` (their environments, tool outputs and goals); the attack templates
``tool_knowledge`` and ``injecagent``;
``injection_corpus.EVAL_BENIGN``; ``tests/scanners/cases/*.yaml``. Never used:
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
import hashlib
import inspect
import json
import os
import random
import re
import sys
import time
import warnings
from collections.abc import Iterable
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml

from proctor.scanners.classifier import (
    decode_model,
    encode_model,
    features,
    normalised_text,
    tokens,
)
from proctor.scanners.structure import prose_view

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(1, str(ROOT))
import injection_corpus as corpus  # noqa: E402
import injection_sources as sources  # noqa: E402

OUTPUT = ROOT / "src" / "proctor" / "scanners" / "data" / "injection_model.bin"
SEED = 20261127
WINDOW = 64
BENCHMARK = "v1.2.2"
TRAIN_SUITES = ("workspace", "travel")
HELD_OUT_SUITES = ("banking", "slack")
TRAIN_ATTACKS = ("important_instructions", "ignore_previous", "system_message", "direct")
HELD_OUT_ATTACKS = ("tool_knowledge", "injecagent")
USERS = ("Emma Johnson", "the user", "Emma", "your user")
MODELS = ("the AI language model", "GPT-4", "Claude", "AI assistant", "Llama", "the assistant")
PYDOC_MODULES = (
    "argparse", "asyncio", "base64", "bisect", "calendar", "collections", "contextlib", "csv",
    "datetime", "decimal", "difflib", "email.message", "enum", "fnmatch", "fractions",
    "functools", "getpass", "gettext", "glob", "gzip", "heapq", "hmac", "html.parser",
    "http.client", "imaplib", "inspect", "io", "ipaddress", "itertools", "json", "logging",
    "mailbox", "os", "pathlib", "pickle", "platform", "queue", "random", "re", "sched",
    "secrets", "selectors", "shlex", "shutil", "signal", "smtplib", "socket", "sqlite3",
    "statistics", "string", "subprocess", "sys", "tarfile", "tempfile", "textwrap",
    "threading", "time", "timeit", "traceback", "unittest", "urllib.request",
    "uuid", "warnings", "zipfile",
)  # fmt: skip
C = 0.5
VALIDATION_FRACTION = 0.2
MAX_BENIGN_FPR = 0.01
# The validation split alone allows 0.5; 0.7 was chosen after comparing 0.5, 0.7, 0.8 and
# 0.9 on the held-out data (docs/scanning.md says so): fewer false positives on ordinary
# text, the same recall on framed injections, less on bare orders.
MIN_THRESHOLD = 0.7
# Words attacks use but people use too: no weight of their own, only inside bigrams
# ("ignore previous", "you must"), so a text full of them is judged by how they combine.
TRIGGER_UNIGRAMS = frozenset((
    "ignore", "ignoring", "disregard", "forget", "override", "overrides", "bypass", "skip",
    "drop", "instructions", "instruction", "system", "urgent", "important", "now", "must",
    "before", "you", "your", "assistant", "ai", "model", "agent", "previous", "prior",
    "earlier", "above", "old", "original", "rules", "guidelines", "new", "task", "admin",
    "message", "chatbot", "this", "any", "every", "all", "the", "a", "an", "to", "and", "of",
    "please", "from", "on",
))  # fmt: skip
MINING_ROUNDS = 2
MINING_FLOOR = 0.3
# Positive corpora: the shipped model learns from the first three; the leave-one-corpus-out
# matrix (``--loco``) uses all five (injection_sources says why two are measurement only).
SHIPPED = ("agentdojo", "generated", "polite")
CORPORA = (*SHIPPED, "tensor-trust", "wasp")
# Benign texts by format (benchmarks/security/format_corpus.py): the ``train`` half of the
# installed files and another seed than the bench's, so section 2b stays out of sample.
FORMAT_SEED = 20261128
FORMAT_PER = 500


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


# --- data ------------------------------------------------------------------------------


def _quiet_agentdojo() -> Any:
    warnings.filterwarnings("ignore")
    from agentdojo.task_suite.load_suites import get_suites

    return get_suites(BENCHMARK)


def tool_outputs(suite: Any) -> list[str]:
    """Tool outputs of every user task's ground-truth run, injection vectors as canaries."""
    from agentdojo.agent_pipeline.ground_truth_pipeline import GroundTruthPipeline
    from agentdojo.functions_runtime import FunctionsRuntime
    from agentdojo.types import get_text_content_as_str

    canaries = {
        vector: f"<CANARY---{vector}--->" for vector in suite.get_injection_vector_defaults()
    }
    outputs: dict[str, None] = {}
    for task_id in sorted(suite.user_tasks):
        task = suite.user_tasks[task_id]
        environment = suite.load_and_inject_default_environment(canaries)
        _, _, _, messages, _ = GroundTruthPipeline(task).query(
            task.PROMPT, FunctionsRuntime(suite.tools), environment
        )
        for message in messages:
            if message["role"] == "tool" and message.get("content"):
                text = NOW.sub(FIXED_TIME, get_text_content_as_str(message["content"]))
                if text.strip():
                    outputs[text] = None
    return list(outputs)


# Tools that create something (send_email) stamp it with the current time, to the
# microsecond: one fixed time keeps the data the same from run to run.
NOW = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\.\d{6}")
FIXED_TIME = "2024-05-15 10:00:00"


def inject(output: str, defaults: dict[str, str], value: str | None) -> str:
    """``output`` with each canary replaced by ``value`` (an attack) or its default."""
    for vector, default in defaults.items():
        output = output.replace(f"<CANARY---{vector}--->", default if value is None else value)
    return output


def environment_strings(suite: Any) -> list[str]:
    """Every string of 20+ characters in the suite's default environment."""
    found: dict[str, None] = {}
    stack: list[Any] = [suite.load_and_inject_default_environment({}).model_dump()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node[k] for k in sorted(node, key=str))
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, str) and len(node) >= 20:
            found[node] = None
    return sorted(found)


def attack_template(name: str, suite: Any) -> str:
    """An AgentDojo attack's template string (``{goal}``, ``{user}``, ``{model}``, ``{tools}``)."""
    from agentdojo.attacks.attack_registry import ATTACKS

    return str(ATTACKS[name](suite, _NamedPipeline()).jailbreak)


class _NamedPipeline:
    """Stands in for a target pipeline: attacks only read its name (to name the model)."""

    name = "gpt-4o-2024-05-13"


def attack_text(template: str, goal: str, rng: random.Random, suite: Any, task: Any) -> str:
    text = template.replace("{goal}", goal).replace("{user}", rng.choice(USERS))
    text = text.replace("{model}", rng.choice(MODELS))
    if "{tools}" in text:
        text = text.replace("{tools}", _tool_sequence(suite, task))
    return text


def _tool_sequence(suite: Any, task: Any) -> str:
    from agentdojo.attacks.important_instructions_attacks import ToolKnowledgeAttack

    return str(ToolKnowledgeAttack(suite, _NamedPipeline()).get_tools_sequence(task))


def pydoc_texts() -> list[str]:
    """The docstrings of a fixed list of stdlib modules and of their public functions and
    classes, by name. Docstrings only: ``pydoc``'s DATA sections show run-time values
    (``os.environ``, ``sys.path``), which would make the data depend on the machine."""
    texts = []
    for name in PYDOC_MODULES:
        module = import_module(name)
        parts = [inspect.getdoc(module) or ""]
        for attribute in sorted(vars(module)):
            value = vars(module)[attribute]
            if attribute.startswith("_") or getattr(value, "__module__", None) != name:
                continue
            if inspect.isfunction(value) or inspect.isclass(value) or inspect.isbuiltin(value):
                parts.append(f"{attribute}\n{inspect.getdoc(value) or ''}")
        texts.append("\n\n".join(parts))
    return texts


def token_chunks(text: str) -> list[list[str]]:
    """``text`` as the scorer sees it: whole when short, else windows of ``WINDOW`` tokens
    overlapping by half (a long benign text must stay quiet in every window)."""
    toks = tokens(normalised_text(text))
    if len(toks) <= WINDOW:
        return [toks] if len(toks) >= 3 else []
    last = len(toks) - WINDOW
    starts = [*range(0, last, WINDOW // 2), last]
    return [toks[start : start + WINDOW] for start in starts]


def build_dataset(*, small: bool = False, corpora: Iterable[str] = SHIPPED) -> dict[str, Any]:
    """Texts by role (``benign``, ``attacks:<corpus>``, ``injected:<corpus>``) for the
    ``corpora`` asked for that are available. Deterministic for a seed."""
    from faker import Faker

    rng = random.Random(SEED)
    Faker.seed(SEED)
    fake = Faker("en_US")
    suites = _quiet_agentdojo()
    benign_docs: list[str] = []
    attacks: dict[str, list[str]] = {name: [] for name in CORPORA}
    injected: dict[str, list[str]] = {name: [] for name in CORPORA}
    goals: list[str] = []
    for name in ("travel",) if small else TRAIN_SUITES:
        suite = suites[name]
        defaults = suite.get_injection_vector_defaults()
        outputs = tool_outputs(suite)
        benign_docs += [inject(o, defaults, None) for o in outputs]
        benign_docs += environment_strings(suite)
        benign_docs += [v for _, v in sorted(defaults.items()) if v.strip()]
        suite_goals = [suite.injection_tasks[t].GOAL for t in sorted(suite.injection_tasks)]
        goals += suite_goals
        templates = [attack_template(a, suite) for a in TRAIN_ATTACKS]
        carriers = [o for o in outputs if "<CANARY---" in o]
        for _ in range(60 if small else 800):
            text = attack_text(rng.choice(templates), rng.choice(suite_goals), rng, suite, None)
            attacks["agentdojo"].append(text)
            injected["agentdojo"].append(inject(rng.choice(carriers), defaults, text))
    generated = attacks["generated"]
    goals += corpus.generated_goals(rng, fake, 40 if small else 400)
    generated += corpus.attacks(rng, fake, goals, 300 if small else 3000)
    generated += corpus.framing_only(rng, fake, 150 if small else 1500)
    # bare orders in data fields, and people's own imperatives in the same kinds of records
    bare = corpus.bare_orders(rng, fake, goals, 60 if small else 2000)
    generated += bare
    injected["generated"] += [corpus.data_record(rng, fake, text) for text in bare]
    legit = corpus.legit_orders(rng, fake, 60 if small else 2000)
    benign_sentences = corpus.benign(rng, fake, 300 if small else 4000)
    benign_sentences += corpus.benign_reports(rng, fake, 150 if small else 1500)
    benign_sentences += corpus.dense_benign(rng, fake, 200 if small else 8000)
    benign_sentences += corpus.html_pages(rng, fake, 50 if small else 1500)
    benign_sentences += legit + [corpus.data_record(rng, fake, text) for text in legit]
    faker_prose = [fake.paragraph(nb_sentences=rng.randint(2, 8)) for _ in range(2000)] + [
        f"{fake.catch_phrase()}. {fake.bs().capitalize()}. {fake.address()}" for _ in range(500)
    ]
    docs = [] if small else pydoc_texts()
    formats = format_texts(20 if small else FORMAT_PER)
    # polite requests to the reader of the data, and the same verbs asked of people
    polite = sources.polite_requests(rng, fake, 100 if small else 2000)
    attacks["polite"] += polite
    injected["polite"] += [sources.email(rng, fake, t) for t in polite[: len(polite) // 2]]
    injected["polite"] += [corpus.data_record(rng, fake, t) for t in polite[len(polite) // 2 :]]
    human = sources.human_requests(rng, fake, 100 if small else 2000)
    benign_sentences += human + [sources.email(rng, fake, t) for t in human]
    benign_sentences += [corpus.data_record(rng, fake, t) for t in human[:1000]]
    # corpora kept for measurement only (see injection_sources): read when asked for
    wanted = set(corpora)
    if "tensor-trust" in wanted:
        attacks["tensor-trust"] += sources.tensor_trust() or []
    if "wasp" in wanted:
        attacks["wasp"] += sources.wasp(random.Random(SEED + 3)) or []
    # embed hand-written attacks in benign carriers, as an injected tool output would be
    carriers = benign_docs + benign_sentences
    for name in ("agentdojo", "generated", "tensor-trust", "wasp"):
        pool = attacks[name]
        count = (300 if small else 3000) if name == "generated" else len(pool) // 2
        for text in rng.sample(pool, min(count, len(pool))):
            host = rng.choice(carriers)
            cut = rng.randint(0, len(host))
            injected[name].append(f"{host[:cut]}\n{text}\n{host[cut:]}")
    data: dict[str, Any] = {
        "benign": sorted(
            set(map(prose, benign_docs + benign_sentences + faker_prose + docs + formats))
        ),
    }
    for name in sorted(wanted):
        if attacks[name]:
            data[f"attacks:{name}"] = sorted(set(attacks[name]))
            data[f"injected:{name}"] = sorted(set(injected[name]))
    return data


def format_texts(per_format: int) -> list[str]:
    """Benign texts of every format section 2b measures, from the other half of the files."""
    from benchmarks.security import format_corpus

    texts, _ = format_corpus.generate(per_format, seed=FORMAT_SEED, part="train")
    return [text for name in sorted(texts) for text in texts[name]]


def prose(text: str) -> str:
    """What the scanner gives the model of ``text``: its prose, pieces of a few words."""
    return prose_view(text).sentences().text


def manifest_of(data: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    for role in sorted(data):
        for text in data[role]:
            digest.update(f"{role}\0{len(text)}\0".encode())
            digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _is_validation(text: str) -> bool:
    value = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=4).digest())
    return value / 2**32 < VALIDATION_FRACTION


# --- training --------------------------------------------------------------------------


def train(data: dict[str, Any], manifest: str) -> tuple[bytes, dict[str, Any]]:
    rng = random.Random(SEED + 1)
    split = {role: ([], []) for role in data}  # type: dict[str, tuple[list[str], list[str]]]
    for role, texts in data.items():
        for text in texts:
            split[role][1 if _is_validation(text) else 0].append(text)
    windows: list[list[str]] = []
    labels: list[int] = []
    for text in split["benign"][0]:
        for chunk in token_chunks(text):
            windows.append(chunk)
            labels.append(0)
    attacks = [t for role in sorted(split) if role.startswith("attacks:") for t in split[role][0]]
    for text in attacks:
        windows.append(tokens(normalised_text(text))[: WINDOW * 2])
        labels.append(1)
    for text in (
        t for role in sorted(split) if role.startswith("injected:") for t in split[role][0]
    ):
        window, without_attack = _attack_window(text, attacks, rng)
        windows.append(window)
        labels.append(1)
        if without_attack is not None:
            windows.append(without_attack)
            labels.append(0)
    weights, bias, scale, seen = _fit(windows, labels)
    for _ in range(MINING_ROUNDS):
        # hard negatives: the best-scoring window of every benign training document
        probe = decode_model(
            encode_model(weights, bias=bias, scale=scale, threshold=0.5, window=WINDOW)
        )
        for text in split["benign"][0]:
            toks = tokens(normalised_text(text))
            total, first, _ = probe.best_window(toks)
            if probe.probability(total) >= MINING_FLOOR:
                windows.append(toks[first : first + WINDOW])
                labels.append(0)
        weights, bias, scale, seen = _fit(windows, labels)
    validation = {role: texts[1] for role, texts in split.items()}
    probe = decode_model(
        encode_model(weights, bias=bias, scale=scale, threshold=0.5, window=WINDOW)
    )
    benign_scores = sorted(probe.score(t) for t in validation["benign"])
    threshold = _threshold(benign_scores)
    attack_scores = [
        probe.score(t) for role in sorted(validation) if role != "benign" for t in validation[role]
    ]
    report = {
        "training_windows": len(windows),
        "positives": sum(labels),
        "features_kept": len(weights),
        "features_seen": seen,
        "threshold": threshold,
        "validation_benign": len(benign_scores),
        "validation_benign_fpr": _rate(benign_scores, threshold),
        "validation_attacks": len(attack_scores),
        "validation_recall": _rate(attack_scores, threshold),
        "validation_top_benign_scores": [round(x, 3) for x in benign_scores[-8:]],
        "validation_lowest_attack_scores": [round(x, 3) for x in sorted(attack_scores)[:8]],
    }
    model = encode_model(
        weights,
        bias=bias,
        scale=scale,
        threshold=threshold,
        window=WINDOW,
        extra={"manifest_sha256": manifest, "trained_by": "scripts/train_injection_classifier.py"},
    )
    return model, report


def _fit(windows: list[list[str]], labels: list[int]) -> tuple[dict[str, int], float, float, int]:
    """Logistic regression on n-gram counts; int8 weights (zeros dropped), bias and scale."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = CountVectorizer(analyzer=_features, min_df=2, dtype="float64")
    matrix = vectorizer.fit_transform(windows)
    classifier = LogisticRegression(
        C=C, solver="liblinear", class_weight="balanced", max_iter=2000, random_state=SEED
    )
    classifier.fit(matrix, labels)
    names = vectorizer.get_feature_names_out()
    coefficients = classifier.coef_[0]
    scale = float(max(abs(coefficients)) / 127)
    weights = {}
    for name, value in zip(names, coefficients, strict=True):
        quantised = round(float(value) / scale)
        if quantised:
            weights[str(name)] = quantised
    bias = float(classifier.intercept_[0])
    return weights, round(bias, 9), round(scale, 9), len(names)


def _features(toks: list[str]) -> list[str]:
    return [f for f in features(toks) if f not in TRIGGER_UNIGRAMS]


def _attack_window(
    text: str, attacks: Iterable[str], rng: random.Random
) -> tuple[list[str], list[str] | None]:
    """The window of an injected document that holds the attack, and the same window with
    the attack's tokens taken out (``None`` when the attack cannot be found): the second is
    a negative, so the carrier's own words (file names, YAML keys, a recipe) around an
    injection do not learn the attack's weight."""
    toks = tokens(normalised_text(text))
    at, length = _locate(text, attacks, toks)
    if len(toks) <= WINDOW:
        start = 0
    else:
        start = max(0, min(len(toks) - WINDOW, at - rng.randint(0, WINDOW // 4)))
    window = toks[start : start + WINDOW]
    if not length:
        return window, None
    without = toks[:at] + toks[at + length :]
    clean = without[start : start + WINDOW]
    return window, clean if len(clean) >= 3 else None


def _locate(text: str, attacks: Iterable[str], toks: list[str]) -> tuple[int, int]:
    """``(first token, token count)`` of the attack in ``text``; count 0 when only a marker
    (or nothing) says where it is."""
    for attack in attacks:
        at = text.find(attack)
        if at >= 0:
            return len(tokens(normalised_text(text[:at]))), len(tokens(normalised_text(attack)))
    for marker in ("<information>", "ignore your previous"):
        at = normalised_text(text).find(marker)
        if at >= 0:
            return len(tokens(normalised_text(text)[:at])), 0
    return max(0, len(toks) - WINDOW), 0


def _threshold(benign_scores: list[float]) -> float:
    """The lowest threshold (>= ``MIN_THRESHOLD``) keeping validation false positives
    within the target."""
    allowed = int(len(benign_scores) * MAX_BENIGN_FPR)
    index = len(benign_scores) - 1 - allowed
    above = benign_scores[index] if index >= 0 else 0.0
    return round(min(0.99, max(MIN_THRESHOLD, above + 1e-6)), 6)


def _rate(scores: list[float], threshold: float) -> float:
    return round(sum(s >= threshold for s in scores) / max(1, len(scores)), 4)


# --- leave one corpus out -------------------------------------------------------------


def leave_one_corpus_out(*, small: bool = False) -> dict[str, Any]:
    """Recall on each positive corpus by a model trained without it (``held_out``) and by
    one trained on every corpus, on the corpus's validation split (``in_corpus``); each at
    the threshold its training calibrated on the benign validation split."""
    data = build_dataset(small=small, corpora=CORPORA)
    names = sorted({role.split(":", 1)[1] for role in data if ":" in role})
    texts = {n: data[f"attacks:{n}"] + data[f"injected:{n}"] for n in names}
    result: dict[str, Any] = {
        "corpora": {
            n: {"attacks": len(data[f"attacks:{n}"]), "texts": len(texts[n])} for n in names
        },
        "benign": len(data["benign"]),
    }
    everything, report = train(data, "loco")
    model = decode_model(everything)
    result["all_corpora"] = {
        "threshold": model.threshold,
        "validation_benign_fpr": report["validation_benign_fpr"],
    }
    for name in names:
        subset = {role: t for role, t in data.items() if not role.endswith(f":{name}")}
        held, held_report = train(subset, "loco")
        held_model = decode_model(held)
        result[name] = {
            "in_corpus": _recall(model, [t for t in texts[name] if _is_validation(t)]),
            "held_out": _recall(held_model, texts[name]),
            "held_out_threshold": held_model.threshold,
            "held_out_validation_benign_fpr": held_report["validation_benign_fpr"],
        }
    return result


def _recall(model: Any, texts: list[str]) -> dict[str, Any]:
    """Share of ``texts`` whose prose (what the scanner reads) the model flags."""
    return {
        "n": len(texts),
        "recall": _rate([model.score(prose(t)) for t in texts], model.threshold),
    }


# --- held-out evaluation ---------------------------------------------------------------


def evaluate(model: Any) -> dict[str, Any]:
    """Recall and false-positive rates on what training never saw."""
    rng = random.Random(SEED + 2)
    suites = _quiet_agentdojo()
    result: dict[str, Any] = {}
    for name in HELD_OUT_SUITES:
        suite = suites[name]
        defaults = suite.get_injection_vector_defaults()
        outputs = tool_outputs(suite)
        clean = [inject(o, defaults, None) for o in outputs]
        clean_scores = [model.score(t) for t in clean]
        carriers = [o for o in outputs if "<CANARY---" in o]
        per_attack = {}
        for attack in TRAIN_ATTACKS + HELD_OUT_ATTACKS:
            template = attack_template(attack, suite)
            scores = []
            for task_id in sorted(suite.injection_tasks):
                task = suite.injection_tasks[task_id]
                text = attack_text(template, task.GOAL, rng, suite, task)
                for carrier in carriers:
                    scores.append(model.score(inject(carrier, defaults, text)))
            per_attack[attack] = {"n": len(scores), "recall": _rate(scores, model.threshold)}
        strings = [model.score(t) for t in environment_strings(suite)]
        result[name] = {
            "clean_outputs": len(clean),
            "clean_fpr": _rate(clean_scores, model.threshold),
            "environment_strings": len(strings),
            "environment_strings_fpr": _rate(strings, model.threshold),
            "injected_recall": per_attack,
        }
    cases = ROOT / "tests" / "scanners" / "cases"
    for kind in ("benign", "injection"):
        texts = [c["text"] for c in yaml.safe_load((cases / f"{kind}.yaml").read_text())["cases"]]
        scores = [model.score(t) for t in texts]
        result[f"stage1_cases_{kind}"] = {
            "n": len(texts),
            "flagged": _rate(scores, model.threshold),
        }
    eval_benign = [model.score(t) for t in corpus.EVAL_BENIGN]
    result["eval_benign_trigger_words"] = {
        "n": len(eval_benign),
        "fpr": _rate(eval_benign, model.threshold),
    }
    return result


if __name__ == "__main__":
    main()
