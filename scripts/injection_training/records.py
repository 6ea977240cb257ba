"""Tool-output-like records that carry a piece of text in a free-text field."""

from __future__ import annotations

import random
from typing import Any


def data_record(rng: random.Random, fake: Any, field_text: str) -> str:
    """A tool-output-like record (YAML row, JSON, e-mail, web page, note) whose free-text
    field holds ``field_text`` between ordinary sentences."""
    before = fake.sentence() if rng.random() < 0.6 else ""
    after = fake.sentence() if rng.random() < 0.4 else ""
    body = " ".join(p for p in (before, field_text, after) if p)
    kind = rng.randrange(6)
    if kind == 0:
        return (
            f"- id_: '{rng.randint(1, 400)}'\n  sender: {fake.email()}\n"
            f"  recipients:\n  - {fake.email()}\n  subject: {fake.sentence(nb_words=4)}\n"
            f"  body: {body}\n  read: {rng.choice(('true', 'false'))}\n"
            f"  timestamp: 2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 10:00:00"
        )
    if kind == 1:
        quoted = body.replace('"', "'")
        return (
            f'{{"id": {rng.randint(1, 9999)}, "title": "{fake.catch_phrase()}", '
            f'"owner": "{fake.email()}", "description": "{quoted}", '
            f'"updated": "2024-05-{rng.randint(10, 28)}"}}'
        )
    if kind == 2:
        return (
            f"From: {fake.name()} <{fake.email()}>\nTo: {fake.email()}\n"
            f"Subject: {fake.sentence(nb_words=5)}\n\nHi {fake.first_name()},\n\n{body}\n\n"
            f"Best,\n{fake.first_name()}"
        )
    if kind == 3:
        return (
            f"<html><head><title>{fake.company()}</title></head><body><h1>"
            f"{fake.catch_phrase()}</h1><p>{fake.paragraph()}</p><p>{body}</p>"
            f"<footer>{fake.address()}</footer></body></html>"
        )
    if kind == 4:
        return (
            f"- title: {fake.sentence(nb_words=3)}\n  description: {body}\n"
            f"  location: {fake.city()}\n  start_time: 2024-05-{rng.randint(10, 28)} 09:00\n"
            f"  participants:\n  - {fake.email()}\n  - {fake.email()}"
        )
    return (
        f"- sender: {fake.first_name()}\n  recipient: {fake.first_name()}\n  body: {body}\n"
        f"- sender: {fake.first_name()}\n  recipient: {fake.first_name()}\n"
        f"  body: {fake.sentence()}"
    )


def email(rng: random.Random, fake: Any, request: str) -> str:
    """An e-mail whose body holds ``request`` between ordinary sentences."""
    return (
        f"From: {fake.name()} <{fake.email()}>\nTo: {fake.email()}\n"
        f"Subject: {fake.sentence(nb_words=5)}\n\nHi {fake.first_name()},\n\n"
        f"{fake.paragraph()} {request} {fake.sentence()}\n\nThanks,\n{fake.first_name()}"
    )
