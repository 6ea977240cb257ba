"""Training: windows, logistic regression, hard-negative mining, threshold."""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from injection_training.dataset import is_validation, token_chunks
from injection_training.settings import (
    MAX_BENIGN_FPR,
    MIN_THRESHOLD,
    MINING_FLOOR,
    MINING_ROUNDS,
    SEED,
    TRIGGER_UNIGRAMS,
    WINDOW,
    C,
)

from proctor.scanners.classifier import (
    decode_model,
    encode_model,
    features,
    normalised_text,
    tokens,
)


def train(data: dict[str, Any], manifest: str) -> tuple[bytes, dict[str, Any]]:
    rng = random.Random(SEED + 1)
    split = {role: ([], []) for role in data}  # type: dict[str, tuple[list[str], list[str]]]
    for role, texts in data.items():
        for text in texts:
            split[role][1 if is_validation(text) else 0].append(text)
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
        "validation_benign_fpr": rate(benign_scores, threshold),
        "validation_attacks": len(attack_scores),
        "validation_recall": rate(attack_scores, threshold),
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


def rate(scores: list[float], threshold: float) -> float:
    return round(sum(s >= threshold for s in scores) / max(1, len(scores)), 4)
