"""YAML read with positions: every value keeps the line and column it came from.

PyYAML's composer gives nodes with marks; we build plain Python values from
them and keep a map from each value's path (``("rules", 2, "effect")``) to its
location, so that later stages can point at the exact key or value.

Aliases (``*name``) are refused: each one copies its anchored node, so a few
hundred bytes of nested aliases expand to billions of values (a "billion laughs"
document). Policy and config files never need them; one located error says so.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
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
    """One YAML document: its plain value and where each part of it sits.

    Positions are kept as 1-based ``(line, column)`` pairs and become
    ``Location`` values only when asked for: a large set has ten of them per
    rule and reports almost none.
    """

    file: str
    value: Any
    locations: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_locations: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: Path, *, key: bool = False) -> Location:
        """The location of ``path``; its key's location when ``key``; else the nearest parent."""
        table = self.key_locations if key else self.locations
        probe = path
        while probe:
            found = table.get(probe) or self.locations.get(probe)
            if found is not None:
                return Location(self.file, *found)
            probe = probe[:-1]
        root = self.locations.get(())
        return Location(self.file, *root) if root is not None else Location(self.file, 1, 1)

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
        events = _events(text, file)
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
    yield from _DocumentBuilder(file).documents(events)


def _events(text: str, file: str) -> list[Any]:
    """The parser's events of the whole text, refusing aliases and repeated anchors.

    The whole text is parsed before any document is built, so a syntax error
    anywhere is reported before a duplicate key in an earlier document.
    """
    anchored = "&" in text  # an alias needs an anchor: without `&` there is nothing to expand
    events: list[Any] = []  # libyaml's events, typed loosely by the stubs
    event: Any
    for event in yaml.parse(text, Loader=_Loader):
        if type(event) is yaml.AliasEvent:
            if anchored:
                raise _alias_error(event, file)
            mark: Any = event.start_mark  # the C parser's mark, which the stubs do not name
            raise yaml.composer.ComposerError(None, None, "found undefined alias", mark)
        events.append(event)
    if anchored:
        _refuse_duplicate_anchors(events)
    return events


def _refuse_duplicate_anchors(events: list[Any]) -> None:
    """As PyYAML's composer does: an anchor is defined once per document."""
    anchors: dict[str, Any] = {}
    for event in events:
        if type(event) is yaml.DocumentStartEvent:
            anchors = {}
        anchor = getattr(event, "anchor", None)
        if anchor is None:
            continue
        if anchor in anchors:
            raise yaml.composer.ComposerError(
                "found duplicate anchor; first occurrence",
                anchors[anchor],
                "second occurrence",
                event.start_mark,
            )
        anchors[anchor] = event.start_mark


def refuse_aliases(text: str, file: str) -> None:
    """Raise ``PolicyError`` (``yaml_alias``) at the first alias in ``text``.

    Scans parser events, which stay as small as the text: the expansion only
    happens when nodes are built from them.
    """
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise _alias_error(event, file)


def _alias_error(event: yaml.AliasEvent, file: str) -> PolicyError:
    return PolicyError(
        f"yaml aliases (`*{event.anchor}`) are not supported: write the value out",
        code="yaml_alias",
        location=_location(file, event.start_mark),
        hint="anchors and aliases can expand a small file into a huge one",
    )


_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"
_NO_KEY = object()  # a mapping frame waiting for its next key


class _DocumentBuilder:
    """Plain values and their positions straight from parser events.

    Builds what PyYAML's composer and safe constructor would (tags on mappings
    and sequences are ignored, as before), without a node per value: on large
    sets the nodes cost more than the parsing. Iterative, so nesting depth is
    bounded by memory, not by the interpreter's recursion limit.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.resolver = yaml.resolver.Resolver()
        self.constructor = yaml.constructor.SafeConstructor()
        self.plain_tags: dict[str, str] = {}  # plain scalar text -> its resolved tag
        self.typed_starts = _typed_starts(self.resolver)

    def documents(self, events: list[Any]) -> Iterator[LocatedDocument]:
        # One loop with the common cases inline: it runs once per value of the set.
        document = LocatedDocument(file=self.file, value=None)
        locations, key_locations = document.locations, document.key_locations
        # the open mappings and sequences: [container, its path, its pending key]
        stack: list[list[Any]] = []
        frame: list[Any] | None = None
        plain_tags, typed_starts = self.plain_tags, self.typed_starts
        scalar_kind, mapping_kind, sequence_kind = (
            yaml.ScalarEvent,
            yaml.MappingStartEvent,
            yaml.SequenceStartEvent,
        )
        event: Any
        for event in events:
            kind = type(event)
            if kind is scalar_kind or kind is mapping_kind or kind is sequence_kind:
                mark = event.start_mark
                if frame is None:
                    path: Path = ()
                else:
                    container = frame[0]
                    if type(container) is list:
                        path = (*frame[1], len(container))
                    elif frame[2] is _NO_KEY:  # a mapping's key
                        key = event.value if kind is scalar_kind else None
                        if (
                            key is None
                            or event.tag is not None
                            or not (key[:1] not in typed_starts or plain_tags.get(key) == _STR_TAG)
                            or key in container
                        ):  # not plain text, or a duplicate: the careful way
                            key = self._key(event, kind, container)
                        frame[2] = key
                        key_locations[(*frame[1], key)] = (mark.line + 1, mark.column + 1)
                        continue
                    else:
                        path = (*frame[1], frame[2])
                        frame[2] = _NO_KEY
                if kind is scalar_kind:
                    # a quoted value's position is inside the quotes, where an
                    # expression's own columns start
                    quoted = 1 if event.style == "'" or event.style == '"' else 0
                    locations[path] = (mark.line + 1, mark.column + 1 + quoted)
                    if event.tag is not None:
                        value: Any = self._scalar(event)
                    elif (
                        not event.implicit[0]
                        or event.value[:1] not in typed_starts
                        or plain_tags.get(event.value) == _STR_TAG
                    ):  # quoted, or plain text that no other type starts as, or known text
                        value = event.value
                    else:
                        value = self._scalar(event)
                else:
                    locations[path] = (mark.line + 1, mark.column + 1)
                    value = {} if kind is mapping_kind else []
                if frame is None:
                    document.value = value
                elif type(frame[0]) is list:
                    frame[0].append(value)
                else:
                    frame[0][path[-1]] = value
                if kind is not scalar_kind:
                    frame = [value, path, _NO_KEY]
                    stack.append(frame)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
                frame = stack[-1] if stack else None
            elif kind is yaml.DocumentEndEvent:
                yield document
                document = LocatedDocument(file=self.file, value=None)
                locations, key_locations = document.locations, document.key_locations

    def _key(self, event: Any, kind: type, mapping: dict[Any, Any]) -> Any:
        if kind is not yaml.ScalarEvent:
            raise PolicyError(
                "a mapping key must be a plain value",
                code="yaml_syntax",
                location=_location(self.file, event.start_mark),
            )
        tag = self._tag(event)
        if tag == _MERGE_TAG:
            raise PolicyError(
                "yaml merge keys (`<<`) are not supported in policy documents",
                code="yaml_syntax",
                location=_location(self.file, event.start_mark),
            )
        # a `=` key is text, as the safe constructor reads it (`flatten_mapping`)
        key = event.value if tag in (_STR_TAG, _VALUE_TAG) else self._scalar(event)
        if key in mapping:
            raise PolicyError(
                f"duplicate key `{key}`",
                code="yaml_duplicate_key",
                location=_location(self.file, event.start_mark),
            )
        return key

    def _tag(self, event: Any) -> str:
        tag: str | None = event.tag
        if tag is not None and tag != "!":
            return tag
        if not event.implicit[0]:  # quoted or block: a string unless tagged
            return _STR_TAG
        value: str = event.value
        if value[:1] not in self.typed_starts:
            return _STR_TAG
        tag = self.plain_tags.get(value)
        if tag is None:
            resolve: Any = self.resolver.resolve  # untyped in the stubs
            tag = self.plain_tags[value] = resolve(yaml.ScalarNode, value, event.implicit)
        return tag

    def _scalar(self, event: Any) -> Any:
        tag = self._tag(event)
        if tag == _STR_TAG:
            return event.value
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.constructor.construct_object(node)
        except (yaml.constructor.ConstructorError, ValueError, TypeError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            raise PolicyError(
                f"cannot read value: {problem}",
                code="yaml_syntax",
                location=_location(self.file, event.start_mark),
            ) from exc
        finally:
            self.constructor.constructed_objects.clear()


class _AnyStart:
    def __contains__(self, start: object) -> bool:
        return True


def _typed_starts(resolver: Any) -> Container[str]:
    """The first characters of plain scalars an implicit resolver may type (a number, a
    bool, null, a timestamp...), "" standing for the empty scalar: plain text starting
    otherwise is a string, without asking the resolver. Every start, when resolvers were
    added that match any first character or by path."""
    starts = frozenset(resolver.yaml_implicit_resolvers)
    if None in starts or resolver.yaml_path_resolvers:
        return _AnyStart()
    return starts


def _location(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)
