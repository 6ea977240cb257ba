"""``Listings``: what one server listed in one session, as the caller may see it.

Every list a server answers (``descriptions.LISTED``: tools, prompts,
resources, resource templates) reaches the client's model, so each item is
reviewed (``descriptions``) before the client sees it: masked, or withheld.
Tools the caller could never be allowed are left out of ``tools/list`` too
(``listing``). What a session was shown is kept here, per list: the items
shown, the items withheld and why (a later call, get or read of one is
refused), and the names asked for that the server does not list. A name that
only reads as a listed one (case, width, invisible characters) is caught by
``look_alike``: policy matches names exactly, a server may not.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from proctor.mcp.descriptions import LISTED, PROMPTS, TOOLS, DescribedTool, Listed
from proctor.mcp.gate import Caller, ToolGate
from proctor.mcp.jsonrpc import Message
from proctor.sdk.tools import ToolInfo

Ask = Callable[[str, dict[str, Any]], Awaitable[Message | None]]
"""Sends the server a request of the proxy's own; its answer, or None when none came."""
_LOOKUP_PAGES = 20
_UNKNOWN_KEPT = 4096


@dataclass
class _Seen:
    """One list as this session saw it."""

    shown: set[str] = field(default_factory=set)
    withheld: dict[str, str] = field(default_factory=dict)  # name -> why
    unknown: set[str] = field(default_factory=set)  # asked for, and not listed
    whole: bool = False  # the proxy read every page itself: a name not seen is not listed

    def knows(self, name: str) -> bool:
        return name in self.shown or name in self.withheld or name in self.unknown


class Listings:
    """The lists one server answered in one session, reviewed for the caller."""

    def __init__(self, gate: ToolGate, server: str) -> None:
        self.gate = gate
        self.server = server
        self.tools: dict[str, ToolInfo] = {}
        self._seen = {listed.key: _Seen() for listed in LISTED.values()}

    def answer(self, message: Message, caller: Caller, listed: Listed) -> Message:
        """A list's answer as the client may see it."""
        result = message.get("result")
        items = result.get(listed.key) if isinstance(result, dict) else None
        if not isinstance(result, dict) or not isinstance(items, list) or not items:
            return message
        reviewed = self.learn(caller, listed, items)
        if listed is TOOLS:
            infos = [self.gate.describe(self.server, item) for item, _ in reviewed]
            visible = self.gate.visible(caller, infos)
        else:
            visible = [True] * len(reviewed)
        kept = [
            described.tool
            for (_, described), shown in zip(reviewed, visible, strict=True)
            if shown and not described.withheld
        ]
        if kept == items:
            return message
        return {**message, "result": {**result, listed.key: kept}}

    def learn(
        self, caller: Caller, listed: Listed, items: list[Any]
    ) -> list[tuple[Mapping[str, Any], DescribedTool]]:
        """The listed items (objects only), reviewed, and what the session was shown."""
        objects = [item for item in items if isinstance(item, dict)]
        if listed is TOOLS:
            infos = [self.gate.describe(self.server, tool) for tool in objects]
            reviewed = self.gate.review_descriptions(caller, objects, infos)
            self.tools.update((info.name, info) for info in infos)
        else:
            reviewed = self.gate.review_listed(caller, self.server, listed, objects)
        seen = self._seen[listed.key]
        for item, described in zip(objects, reviewed, strict=True):
            name = str(item.get(listed.named, ""))
            seen.unknown.discard(name)
            if described.withheld:
                seen.withheld[name] = described.reason
                seen.shown.discard(name)
                self.tools.pop(name, None)  # never a prompt's or a resource's name
            else:
                seen.withheld.pop(name, None)
                seen.shown.add(name)
        return list(zip(objects, reviewed, strict=True))

    def withheld(self, listed: Listed, name: str) -> str | None:
        """Why the item ``name`` was withheld from the list; None when it was not."""
        return self._seen[listed.key].withheld.get(name)

    def look_alike(self, listed: Listed, name: str) -> str | None:
        """The listed (or withheld) item ``name`` is not but reads as."""
        seen = self._seen[listed.key]
        return look_alike(name, seen.shown | seen.withheld.keys())

    def forget(self, notification: str) -> None:
        """A ``notifications/<list>/list_changed``: that list is learned again."""
        changed = notification.removeprefix("notifications/").removesuffix("/list_changed")
        for listed in LISTED.values():
            if listed.key == changed or (changed == "resources" and listed.named == "uriTemplate"):
                self._seen[listed.key] = _Seen()
                if listed is TOOLS:
                    self.tools.clear()

    async def look_up(self, listed: Listed, name: str, caller: Caller, meta: Any, ask: Ask) -> None:
        """Before a call or a get of an item this session was never shown, list them.

        Clients that remember lists across sessions call without listing; a
        withheld tool or prompt is still refused, a look-alike name still
        caught, and a tool's annotations are the upstream's, not the worst
        case. The list carries the client's ``_meta`` (its protocol era).
        """
        seen = self._seen[listed.key]
        # known, or every page was read since the list last changed: nothing more to learn
        if listed not in (TOOLS, PROMPTS) or seen.knows(name) or seen.whole:
            return
        lookup_meta = (
            {k: v for k, v in meta.items() if k != "progressToken"}
            if isinstance(meta, dict)
            else None
        )
        cursor: Any = None
        for _ in range(_LOOKUP_PAGES):
            params: dict[str, Any] = {}
            if lookup_meta:
                params["_meta"] = lookup_meta
            if cursor is not None:
                params["cursor"] = cursor
            reply = await ask(listed.method, params)
            result = reply.get("result") if reply is not None else None
            items = result.get(listed.key) if isinstance(result, dict) else None
            if not isinstance(result, dict) or not isinstance(items, list):
                break
            self.learn(caller, listed, items)
            cursor = result.get("nextCursor")
            seen.whole = not cursor
            if seen.knows(name) or self.look_alike(listed, name) is not None or not cursor:
                break
        if not seen.knows(name) and not seen.whole:  # asked once; the worst case applies now
            if len(seen.unknown) >= _UNKNOWN_KEPT:  # a flood of made-up names: start afresh
                seen.unknown.clear()
            seen.unknown.add(name)


def look_alike(name: str, listed: Collection[str]) -> str | None:
    """The listed name ``name`` is not but reads as (case, width, invisible characters).

    Policy matches names exactly, while a server may look them up loosely:
    ``Delete_File`` or ``delete_file`` with a zero-width space would dodge a rule
    on ``delete_file`` and still run it.
    """
    if name in listed:
        return None
    folded = _folded(name)
    return next((known for known in listed if _folded(known) == folded), None)


def _folded(name: str) -> str:
    normal = unicodedata.normalize("NFKC", name)
    return "".join(c for c in normal if unicodedata.category(c) != "Cf").casefold()
