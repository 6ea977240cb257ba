"""Slot values shared by the generated attacks and the benign look-alikes (seeded)."""

from __future__ import annotations

import random
from typing import Any

AGENTS = (
    "AI assistant",
    "assistant",
    "AI agent",
    "language model",
    "AI",
    "LLM",
    "chatbot",
    "model",
    "copilot",
)


MONTHS = ("January", "March", "May", "July", "September", "November")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the 14th", "May 3")
TIMES = ("9:00", "10:30", "noon", "2 pm", "4:15", "18:00")


def fill(template: str, rng: random.Random, fake: Any) -> str:
    """A template with its slots filled from ``fake`` (a seeded Faker) and ``rng``."""
    values = {
        "name": fake.first_name(),
        "company": fake.company(),
        "email": fake.email(),
        "url": fake.url() + fake.uri_path(),
        "iban": fake.iban(),
        "amount": f"${rng.randint(50, 9000)}",
        "word": fake.word(),
        "day": rng.choice(DAYS),
        "time": rng.choice(TIMES),
        "month": rng.choice(MONTHS),
        "room": str(rng.randint(1, 40)),
        "agent": rng.choice(AGENTS),
    }
    return template.format(**values)


def bare_values(rng: random.Random, fake: Any) -> dict[str, str]:
    return {
        "url": rng.choice((fake.domain_name(), f"www.{fake.domain_name()}", fake.url()))
        + rng.choice(("", fake.uri_path())),
        "name": fake.first_name(),
        "email": fake.email(),
        "iban": fake.iban(),
        "amount": rng.choice((f"${rng.randint(10, 9000)}", f"{rng.randint(10, 9000)} EUR")),
        "n": str(rng.randint(1, 99)),
        "day": rng.choice(DAYS),
        "time": rng.choice(TIMES),
        "month": rng.choice(MONTHS),
        "word": fake.word(),
        "company": fake.company(),
        "address": fake.address().replace("\n", ", "),
        "phone": fake.phone_number(),
    }
