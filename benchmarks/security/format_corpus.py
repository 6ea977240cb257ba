"""Section 2b: benign texts by format, at least ``PER_FORMAT`` each, built offline.

Files installed on this machine (``format_files``) and generated records and
prose (``format_generated``), both sampled with one seed. A format whose files
are too few is topped up with generated texts of the same shape; the sources
of each format are reported with the counts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from benchmarks.security import format_files as files
from benchmarks.security import format_generated as gen

DEFAULT_SEED = 20261207
PER_FORMAT = 500
FORMATS = (
    "table.markdown", "table.ascii", "table.html", "csv", "tsv", "json", "yaml", "logs",
    "code", "shell output", "html page", "records", "marketing e-mail", "support answer",
    "security advisory", "markdown document",
)  # fmt: skip


def generate(
    per_format: int = PER_FORMAT, seed: int = DEFAULT_SEED, part: str = files.BENCH
) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """Texts per format, and per format how many came from each source. ``part`` picks the
    half of the installed files (``format_files.part_of``): the bench reads ``"bench"``, the
    classifier's training script ``"train"`` with another seed."""
    from faker import Faker

    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    packages = files.package_records(part)
    pool = [dict(p, summary=p["summary"][:60]) for p in packages]
    corpus: dict[str, list[str]] = {}
    sources: dict[str, dict[str, int]] = {}

    def add(name: str, source: str, texts: list[str]) -> None:
        texts = texts[: per_format - len(corpus.get(name, []))]
        corpus.setdefault(name, []).extend(texts)
        sources.setdefault(name, {})[source] = sources.get(name, {}).get(source, 0) + len(texts)

    def fill(name: str, source: str, make: Callable[[], str]) -> None:
        add(name, source, [make() for _ in range(per_format - len(corpus.get(name, [])))])

    def table() -> list[dict[str, str]]:
        return gen.rows(fake, rng, pool)

    fill("table.markdown", "generated (dpkg status, faker)", lambda: gen.markdown_table(table()))
    fill("table.ascii", "generated (dpkg status, faker)", lambda: gen.ascii_table(table()))
    fill("table.html", "generated (dpkg status, faker)", lambda: gen.html_table(table()))
    for name, separator in (("csv", ","), ("tsv", "\t")):
        found = files.sample(
            files.files(files.DATA[name], part=part), per_format // 2, rng, keep_header=True
        )
        add(name, "installed files", found)
        fill(name, "generated", lambda s=separator: gen.delimited(table(), s))  # type: ignore[misc]
    add("json", "installed files", files.json_values(per_format // 2, rng, part))
    fill("json", "generated api responses", lambda: gen.api_response(fake, rng, pool))
    found = files.sample(
        files.files(files.DATA["yaml"], part=part), per_format // 2, rng, keep_header=False
    )
    add("yaml", "installed files", found)
    fill("yaml", "generated records", lambda: gen.yaml_records(fake, rng, pool))
    add("logs", "/var/log", files.logs(per_format // 2, rng, part))
    fill("logs", "generated application logs", lambda: gen.app_logs(fake, rng))
    code = {lang: files.files(patterns, part=part) for lang, patterns in files.CODE.items()}
    for language, paths in code.items():
        add("code", language, files.sample(paths, per_format // 5 + 1, rng, keep_header=False))
    for language in ("code.python", "code.c"):  # the languages with the most files fill up
        extra = files.sample(code[language], per_format, rng, keep_header=False)
        add("code", language, [t for t in extra if t not in corpus["code"]])
    fill("shell output", "generated", lambda: gen.shell_output(fake, rng, packages))
    found = files.sample(
        files.files(("*.html",), part=part), per_format // 2, rng, keep_header=False
    )
    add("html page", "installed files", found)
    fill("html page", "generated", lambda: _page(fake, rng))
    fill("records", "generated (calendar, tickets, crm)", lambda: gen.calendar_record(fake, rng))
    fill("marketing e-mail", "generated", lambda: _marketing(fake, rng))
    fill("support answer", "generated", lambda: gen.prose(fake, rng, gen.SUPPORT, True))
    add(
        "security advisory",
        "debian changelogs",
        files.changelog_entries(per_format // 2, rng, part),
    )
    fill("security advisory", "generated", lambda: gen.prose(fake, rng, gen.ADVISORY, False))
    found = files.sample(
        files.files(files.DATA["markdown"], part=part), per_format, rng, keep_header=False
    )
    add("markdown document", "installed files", found)
    fill("markdown document", "generated", lambda: "# Notes\n\n" + fake.text(1500))
    return corpus, sources


def _marketing(fake: Any, rng: random.Random) -> str:
    body = gen.prose(fake, rng, gen.MARKETING, True)
    return gen.email_with_headers(fake, rng, body) if rng.random() < 0.5 else body


def _page(fake: Any, rng: random.Random) -> str:
    paragraphs = "".join(f"<p>{fake.paragraph()}</p>\n" for _ in range(rng.randint(2, 5)))
    return (
        f"<!doctype html>\n<html><head><title>{fake.catch_phrase()}</title></head>\n<body>\n"
        '<nav><a href="/">Home</a> | <a href="/blog">Blog</a></nav>\n'
        f"<h1>{fake.catch_phrase()}</h1>\n"
        f"{paragraphs}<footer>&copy; {fake.company()}</footer>\n</body></html>"
    )
