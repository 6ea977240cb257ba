"""Shapes recognised and the prose read from each, with spans mapped to the original."""

from __future__ import annotations

import time

import pytest

from proctor.scanners.structure import prose_view
from proctor.scanners.structure.data import yaml_values
from proctor.scanners.structure.view import ProseBuilder

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
        (YAML, "yaml", YAML),
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


def test_a_piece_cut_from_the_middle_of_a_page_is_read_as_html() -> None:
    text = (
        'subscribe to the list, check the <a href="http://example.org/archives/">archives</a>'
        ' and the <a href="http://example.org/bugs">bug\ndatabase</a>:</p><ol>\n'
        "  <li>provide patches</li>\n  <li>provide the diffs</li>\n</ol><p>Thanks</p>"
    )
    view = prose_view(text)
    assert view.shape == "html"
    assert "href" not in view.text
    assert "example.org" not in view.text
    assert "provide patches" in view.text


# a README with a logo tag is no HTML page; YAML records are not Python annotations
README_WITH_LOGO = (
    '# Tool\n\n<p align="center"><img src="logo.png"></p>\n\nA tool.<br>\n\n'
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


@pytest.mark.parametrize(
    ("text", "shape"),
    [(README_WITH_LOGO, "markdown"), ("name: Alice\nrole: admin\nteam: data\n", "yaml")],
)
def test_look_alikes_keep_their_shape(text: str, shape: str) -> None:
    assert prose_view(text).shape == shape


def test_markdown_reads_link_text_and_title_not_targets_or_heading_marks() -> None:
    text = (
        '## Release\n\nUse the [upload form](https://keys.example/upload "Key upload") '
        "or <https://keys.example/>.\n[ref]: https://example.org/ref\n\n| a | b |\n|---|---|\n"
    )
    view = prose_view(text)
    assert view.shape == "markdown"
    assert view.text.startswith('Release\n\nUse the upload form "Key upload" or .')
    assert "https" not in view.text
    at = view.text.index("upload form")
    start, end = view.origin(at, at + len("upload form"))
    assert text[start:end] == "upload form"
    at = view.text.index("Key upload")
    start, end = view.origin(at, at + len("Key upload"))
    assert text[start:end] == "Key upload"


def test_markdown_front_matter_is_read_as_yaml_values() -> None:
    text = "---\ntitle: Getting started with the tool\ntags: [a, b]\n---\n\nSome text here.\n"
    view = prose_view(text)
    assert view.text.startswith("Getting started with the tool\n")
    assert "title:" not in view.text


def test_python_fields_with_docstrings_are_read_as_code() -> None:
    text = (
        "class Params(TypedDict, total=False):\n    after_id: str\n"
        '    """ID of the object to use as a cursor.\n\n    When provided, returns the page'
        ' after it.\n    """\n\n    limit: int\n    """How many items, 1 to 100."""\n\n'
        "    kind: Required[Literal['page']]\n"
    )
    view = prose_view(text)
    assert view.shape == "code"
    assert "after_id" not in view.text
    assert "ID of the object" in view.text


def test_a_tsv_whose_first_column_is_a_date_is_a_table() -> None:
    text = "date\temail\tcity\n2025-03-04\ta@example.org\tOslo\n2026-01-11\tb@example.com\tRome\n"
    view = prose_view(text)
    assert view.shape == "tsv"
    assert view.sentences().text == ""


def test_yaml_values_reads_values_comments_and_sentence_keys() -> None:
    text = (
        '# the people\n- name: &first Alice\n  note: "Please call the office"\n'
        "  body: |\n    A long body\n    over two lines.\n"
        "- **Build on prior context**: if this is not the first call\n"
    )
    out = ProseBuilder(text)
    yaml_values(text, 0, len(text), out)
    assert out.view("yaml").text == (
        "the people\nAlice\nPlease call the office\nA long body\nover two lines.\n"
        "**Build on prior context**: if this is not the first call"
    )
