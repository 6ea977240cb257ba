"""Reading YAML with positions: the values PyYAML's safe loader gives, and where each sits."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.policy import PolicyLoadError, load_policies
from proctor.policy.errors import PolicyError
from proctor.policy.source import read_documents

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, width=32),
    st.text(max_size=8),
    st.sampled_from(["yes", "no", "~", "0x1f", "1e3", "2026-12-07", "null", ":", "- a", "#"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=4),
    ),
    max_leaves=20,
)


@given(st.lists(values, min_size=1, max_size=3), st.booleans())
@settings(max_examples=200, deadline=None)
def test_values_and_positions_are_the_safe_loaders(docs: list[Any], flow: bool) -> None:
    text = yaml.safe_dump_all(docs, default_flow_style=flow, allow_unicode=True)
    read = list(read_documents(text, "f.yaml"))
    assert [d.value for d in read] == list(yaml.safe_load_all(text))
    for document, node in zip(read, yaml.compose_all(text, Loader=yaml.SafeLoader), strict=True):
        assert document.locations == dict(_positions(node, ()))


# Plain (unquoted) scalars as written by hand: some typed by their first character (a
# number, a bool, null, a timestamp), some text that starts like one, some plain text.
PLAIN = st.sampled_from(
    ["yes", "On", "off", "~", "null", "Null", "nil", ".inf", "-.5", "+1", "0o17", "0x1f",
     "1_000", "1e3", "2026-12-07", "2026-12-07 10:00:00", "12:30:00", "=", "true", "tru",
     "r12", "read:*", "_x", "a b", "é", "-", "Yes!", "nope", "018"]
)  # fmt: skip


@given(st.lists(st.tuples(PLAIN, PLAIN), min_size=1, max_size=6, unique_by=lambda kv: kv[0]))
@settings(max_examples=200, deadline=None)
def test_plain_scalars_are_typed_as_the_safe_loader_types_them(
    pairs: list[tuple[str, str]],
) -> None:
    text = "".join(f"{key}: {value}\n" for key, value in pairs)
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:  # `a: =`: no constructor for that value, here either
        with pytest.raises(PolicyError):
            list(read_documents(text, "f.yaml"))
        return
    if len(expected) < len(pairs):  # `yes` and `On` are one key: refused, not overwritten
        with pytest.raises(PolicyError) as caught:
            list(read_documents(text, "f.yaml"))
        assert caught.value.code == "yaml_duplicate_key"
        return
    (document,) = read_documents(text, "f.yaml")
    assert document.value == expected
    assert [type(key) for key in document.value] == [type(key) for key in expected]


def _positions(node: yaml.Node, path: tuple[Any, ...]) -> Any:
    """Each value's path and its (line, column), inside the quotes for a quoted scalar."""
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    yield path, (node.start_mark.line + 1, node.start_mark.column + 1 + quoted)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _positions(value, (*path, yaml.safe_load(yaml.serialize(key))))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _positions(item, (*path, index))


@pytest.mark.parametrize(
    ("text", "code", "where", "words"),
    [
        ("name: p\n<<: {a: 1}\n", "yaml_syntax", (2, 1), "merge keys"),
        ("name: p\n!!int x: 1\n", "yaml_syntax", (2, 1), "cannot read value"),
        ("name: p\nversion: !!int x\n", "yaml_syntax", (2, 10), "cannot read value"),
        ("name: p\nversion: !custom 1\n", "yaml_syntax", (2, 10), "cannot read value"),
        ("name: p\n? [a]\n: 1\n", "yaml_syntax", (2, 3), "plain value"),
        ("name: p\nname: q\n", "yaml_duplicate_key", (2, 1), "`name`"),
        ("name: p\nrules: *r\n", "yaml_syntax", (2, 8), "undefined alias"),
        ("name: p\na: &x 1\nb: &x 2\n", "yaml_syntax", (3, 4), "second occurrence"),
        ("name: p\nrules: [\n", "yaml_syntax", (3, 1), "malformed yaml"),
    ],
)
def test_unreadable_yaml_is_a_located_error_not_a_crash(
    text: str, code: str, where: tuple[int, int], words: str
) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        load_policies(texts=[text])
    (error,) = caught.value.errors
    assert isinstance(error, PolicyError)
    assert error.code == code
    assert error.location is not None
    assert (error.location.line, error.location.column) == where
    assert words in error.message


def test_deep_nesting_is_read_without_recursion_and_bounded_by_the_parser() -> None:
    def nested(depth: int) -> str:
        return "name: p\ndeep: " + "[" * depth + "]" * depth + "\n"

    (document,) = read_documents(nested(900), "f.yaml")
    value = document.value["deep"]
    for _ in range(899):
        (value,) = value
    assert value == []
    with pytest.raises(PolicyError) as caught:  # libyaml's own limit, a located error
        list(read_documents(nested(5_000), "f.yaml"))
    assert caught.value.code == "yaml_syntax"
    assert "nesting depth" in caught.value.message
