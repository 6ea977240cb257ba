"""Shapes recognised and the prose read from each, with spans mapped to the original."""

from __future__ import annotations

import time

import pytest

from proctor.scanners.structure import prose_view

MARKDOWN_TABLE = (
    "Results for your query:\n\n"
    "| School | City | Founded |\n|:---|---|---:|\n"
    "| Lincoln High School | Springfield | 1921 |\n| Central Academy | Portland | 1899 |\n"
)
ASCII_TABLE = "+-------+------+\n| Album | Year |\n+=======+======+\n| Revolver | 1966 |\n+---+\n"
CSV = 'id,name,note\n1,Alice,"says ""hi"""\n2,Bob,ok\n'
TSV = "id\tname\tcity\n1\tAlice\tParis\n2\tBob\tRome\n"
JSON = '{"status": "ok", "items": [{"id": 1, "title": "Quarterly report"}], "next": null}'
PYTHON = (
    'import os\n\n\ndef main():\n    """Run the tool."""\n'
    '    # read the config\n    return os.environ["HOME"]\n'
)
JS = "const a = 1;\n/* block\n * comment */\nfunction f() {\n  return 'x y';\n}\n"
LOGS = (
    "2024-05-01 12:00:01,123 INFO app.server: started on port 8080\n"
    "2024-05-01 12:00:02,456 WARNING [worker-1] queue is filling up\n"
)
EMAIL = (
    "From: a@b.io\nTo: c@d.io\nSubject: Lunch plans\nDate: Mon, 1 May 2024\n\nSee you at noon.\n"
)
HTML = (
    '<html><body><h1>Title &amp; more</h1><img alt="a cat"><script>// say hi\n'
    'var x = "hello";</script><style>p {}</style><p>Body text</p></body></html>'
)
YAML = "- name: Alice\n  role: admin\n- name: Bob\n  role: user\n"
# a C file that opens with a licence comment, then an array of characters
C_WITH_LICENCE = (
    "/*\n * WARNING: do not edit!\n * Licensed under the Apache License 2.0.\n */\n\n"
    '#define PLATFORM "platform: BSD-x86_64"\n\nstatic const char flags[] = {\n'
    "    'c','o','m','p','i','l','e','r',':',' ',\n    '-','f','P','I','C',' ','-',\n"
    "    'W','a','l','l','\\0'\n};\n"
)
# one line of minified JavaScript, in a markdown-looking text (a backtick opens it)
MINIFIED = '`+h+"^"},' + "if(this.done){return this.EOF;}var o=this.match(a,b);" * 12


@pytest.mark.parametrize(
    ("text", "shape", "prose"),
    [
        (
            MARKDOWN_TABLE,
            "markdown",
            "Results for your query:\nSchool\nCity\nFounded\n"
            "Lincoln High School\nSpringfield\n1921\nCentral Academy\nPortland\n1899",
        ),
        (ASCII_TABLE, "markdown", "Album\nYear\nRevolver\n1966"),
        (CSV, "csv", 'id\nname\nnote\n1\nAlice\nsays "hi"\n2\nBob\nok'),
        (TSV, "tsv", "id\nname\ncity\n1\nAlice\nParis\n2\nBob\nRome"),
        (JSON, "json", "ok\nQuarterly report"),
        (PYTHON, "code", "Run the tool.\nread the config\nHOME"),
        (JS, "code", "block\ncomment\nx y"),
        (LOGS, "logs", "started on port 8080\nqueue is filling up"),
        (EMAIL, "email", "Lunch plans\nSee you at noon."),
        (HTML, "html", "Title & more\na cat\nsay hi\nhello\nBody text"),
        (YAML, "yaml", "Alice\nadmin\nBob\nuser"),
        ("Just a sentence, nothing more.", "text", "Just a sentence, nothing more."),
    ],
)
def test_shape_and_prose(text: str, shape: str, prose: str) -> None:
    view = prose_view(text)
    assert view.shape == shape
    assert view.text == prose


def test_spans_map_back_exactly_inside_copied_pieces() -> None:
    view = prose_view(MARKDOWN_TABLE)
    at = view.text.index("Central Academy")
    start, end = view.origin(at, at + len("Central Academy"))
    assert MARKDOWN_TABLE[start:end] == "Central Academy"
    across = view.origin(view.text.index("Springfield"), view.text.index("Portland") + 8)
    assert MARKDOWN_TABLE[across[0] : across[1]].startswith("Springfield")
    assert MARKDOWN_TABLE[across[0] : across[1]].endswith("Portland")


def test_decoded_pieces_map_to_the_whole_piece() -> None:
    text = '{"note": "\\u0069gnore this"}'
    view = prose_view(text)
    assert view.text == "ignore this"
    start, end = view.origin(0, 6)
    assert text[start:end] == '"\\u0069gnore this"'


def test_single_quoted_dict_is_read_like_json() -> None:
    text = "{'Hotel': 'Rating: 4.2\\nGreat staff', 'x': 'y'}"
    assert prose_view(text).text == "Rating: 4.2\nGreat staff\ny"


def test_fenced_code_in_markdown_reads_comments_only() -> None:
    text = "Use this:\n\n```python\nx = compute(1)  # the answer\n```\nDone.\n"
    assert prose_view(text).text == "Use this:\nthe answer\nDone."


def test_empty_and_structure_only_texts() -> None:
    assert prose_view("").text == ""
    view = prose_view("|---|---|\n|---|---|\n")
    assert view.text == ""
    assert view.origin(0, 0) == (0, 0)


PATHOLOGICAL = [
    "<!--" * 20_000,
    "<html>" + "<script>" * 20_000,
    "<div>" + "<" * 50_000,
    "import os\n" * 3 + '"""' * 20_000,
    "def f():\n    x = 1;\n" + "/*" * 20_000,
    "def f():\n    x = 1;\n" + "'a" * 20_000,
    "{" + '"\\' * 20_000,
    "|" * 50_000 + "\n" + "|" * 50_000,
    ("-" * 50_000 + "x\n") * 2,
    "a,b\n" * 20_000,
    'a,"b\n' * 20_000,
    "```\n" * 20_000,
    "2024-05-01 12:00:01 INFO " + "[x] " * 20_000 + "\n" * 2,
    "From: a@b.io\nTo: c@d.io\n\n" + "<p>" * 20_000,
    "a = b" * 20_000 + "x\nif x:\n  y\n",
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=lambda t: repr(t[:12]))
def test_pathological_shapes_stay_fast(text: str) -> None:
    started = time.process_time()  # this process's CPU: a busy machine does not count
    view = prose_view(text)
    view.origin(0, len(view.text))
    assert time.process_time() - started < 1.0


def test_sentences_keep_pieces_of_four_words_or_more_with_their_origin() -> None:
    text = "| name | note |\n|---|---|\n| Ann | please call the office tomorrow |\n"
    view = prose_view(text).sentences()
    assert view.text == "please call the office tomorrow"
    start, end = view.origin(0, len(view.text))
    assert text[start:end] == "please call the office tomorrow"
    plain = prose_view("Just a sentence.")
    assert plain.sentences() is plain


def test_a_c_file_that_opens_with_a_licence_comment_is_read_as_code() -> None:
    view = prose_view(C_WITH_LICENCE)
    assert view.shape == "code"
    assert view.sentences().text == "WARNING: do not edit!\nLicensed under the Apache License 2.0."


def test_minified_code_is_read_as_code() -> None:
    view = prose_view(MINIFIED)
    assert view.shape == "code"
    assert "this.done" not in view.text


def test_a_table_drawn_in_a_comment_is_read_as_cells() -> None:
    text = (
        "```sql\nSELECT * FROM t;\n/*----+------+\n | id | city |\n +----+------+\n"
        " | 1  | Oslo |\n +----+------+ */\n```\n"
    )
    assert prose_view(text).text == "id\ncity\n1\nOslo"
