"""YAML read with positions: every value keeps the line and column it came from.

PyYAML's composer gives nodes with marks; we build plain Python values from
them and keep a map from each value's path (``("rules", 2, "effect")``) to its
location, so that later stages can point at the exact key or value.

Aliases (``*name``) are refused: each one copies its anchored node, so a few
hundred bytes of nested aliases expand to billions of values (a "billion laughs"
document). Policy and config files never need them; one located error says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from proctor.errors import Location
from proctor.policy.errors import PolicyError


@dataclass(frozen=True, slots=True)
class PolicySource:
    """Policy text and the name it is reported under (a path, or `<inline>`)."""

    text: str
    file: str


Path = tuple[str | int, ...]
MAX_SOURCE_BYTES = 8 * 1024 * 1024

try:  # the C composer is several times faster on large policy sets
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


@dataclass(slots=True)
class LocatedDocument:
    """One YAML document: its plain value and where each part of it sits."""

    file: str
    value: Any
    locations: dict[Path, Location] = field(default_factory=dict)
    key_locations: dict[Path, Location] = field(default_factory=dict)

    def location(self, path: Path, *, key: bool = False) -> Location:
        """The location of ``path``; its key's location when ``key``; else the nearest parent."""
        table = self.key_locations if key else self.locations
        probe = path
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.locations:
                return self.locations[probe]
            probe = probe[:-1]
        return self.locations.get((), Location(self.file, 1, 1))

    def error(self, path: Path, message: str, code: str) -> PolicyError:
        """A ``PolicyError`` ``code`` located at ``path`` (see ``location``)."""
        return PolicyError(message, code=code, location=self.location(path))


def read_documents(text: str, file: str) -> Iterator[LocatedDocument]:
    """Every YAML document in ``text``; raises ``PolicyError`` for malformed YAML."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise PolicyError(
            f"the file is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MiB",
            code="policy_too_large",
            location=Location(file),
        )
    try:
        if "&" in text:  # an alias needs an anchor: without `&` there is nothing to expand
            refuse_aliases(text, file)
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = _location(file, mark) if mark is not None else Location(file)
        problem = (exc.problem or exc.context or "malformed yaml").strip()
        raise PolicyError(
            f"malformed yaml: {problem}", code="yaml_syntax", location=location
        ) from exc
    except yaml.YAMLError as exc:
        raise PolicyError(
            f"malformed yaml: {exc}", code="yaml_syntax", location=Location(file)
        ) from exc
    for node in nodes:
        if node is None:
            continue
        document = LocatedDocument(file=file, value=None)
        document.value = _build(node, (), document)
        yield document


def refuse_aliases(text: str, file: str) -> None:
    """Raise ``PolicyError`` (``yaml_alias``) at the first alias in ``text``.

    Scans parser events, which stay as small as the text: the expansion only
    happens when nodes are built from them.
    """
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise PolicyError(
                f"yaml aliases (`*{event.anchor}`) are not supported: write the value out",
                code="yaml_alias",
                location=_location(file, event.start_mark),
                hint="anchors and aliases can expand a small file into a huge one",
            )


_constructor = yaml.constructor.SafeConstructor()


def _build(node: yaml.Node, path: Path, document: LocatedDocument) -> Any:
    location = _location(document.file, node.start_mark)
    if isinstance(node, yaml.ScalarNode) and node.style in ("'", '"'):
        # point inside the quotes, where an expression's own columns start
        location = Location(location.file, location.line, (location.column or 1) + 1)
    document.locations[path] = location
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise PolicyError(
                    "a mapping key must be a plain value",
                    code="yaml_syntax",
                    location=_location(document.file, key_node.start_mark),
                )
            key = _constructor.construct_object(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise PolicyError(
                    "yaml merge keys (`<<`) are not supported in policy documents",
                    code="yaml_syntax",
                    location=_location(document.file, key_node.start_mark),
                )
            if key in result:
                raise PolicyError(
                    f"duplicate key `{key}`",
                    code="yaml_duplicate_key",
                    location=_location(document.file, key_node.start_mark),
                )
            child = (*path, key)
            document.key_locations[child] = _location(document.file, key_node.start_mark)
            result[key] = _build(value_node, child, document)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, index), document) for index, item in enumerate(node.value)]
    try:
        return _constructor.construct_object(node)
    except yaml.constructor.ConstructorError as exc:
        raise PolicyError(
            f"cannot read value: {exc.problem}",
            code="yaml_syntax",
            location=_location(document.file, node.start_mark),
        ) from exc


def _location(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)
