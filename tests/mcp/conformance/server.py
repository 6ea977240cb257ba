"""The server the MCP conformance suite's server scenarios expect, built with the Python SDK.

``python server.py stdio`` serves on stdin/stdout; ``python server.py http PORT`` serves
Streamable HTTP on 127.0.0.1 with resumable streams (an in-memory event store, a
retry interval) and the SDK's DNS-rebinding protection. The tools, resources and
prompts are the ones the suite's scenarios (``src/scenarios/server/`` of
modelcontextprotocol/conformance v0.1.16) call by name, answering what they check.
"""

from __future__ import annotations

import itertools
import json
import sys
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import NotificationOptions, Server
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore

Context = ServerRequestContext[Any, Any]
PIXEL = (  # a 1x1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0g"
    "AAAABJRU5ErkJggg=="
)
WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}
ADDRESS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
    "additionalProperties": False,
}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _image() -> dict[str, Any]:
    return {"type": "image", "data": PIXEL, "mimeType": "image/png"}


def _embedded(uri: str, text: str, mime: str = "text/plain") -> dict[str, Any]:
    return {"type": "resource", "resource": {"uri": uri, "mimeType": mime, "text": text}}


def _string_argument(name: str, description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": "string", "description": description}},
        "required": [name],
    }


# -- tools -------------------------------------------------------------------------------------

Tool = Callable[[Context, dict[str, Any]], Awaitable[dict[str, Any]]]
TOOLS: dict[str, tuple[str, dict[str, Any], Tool]] = {}


def tool(
    name: str, description: str, schema: dict[str, Any] = NO_ARGUMENTS
) -> Callable[[Tool], Tool]:
    def register(function: Tool) -> Tool:
        TOOLS[name] = (description, schema, function)
        return function

    return register


def _fixed(*content: dict[str, Any]) -> Tool:
    async def answer(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
        return {"content": list(content)}

    return answer


tool("test_simple_text", "a text answer")(_fixed(_text("A simple text answer.")))
tool("test_image_content", "an image answer")(_fixed(_image()))
tool("test_audio_content", "an audio answer")(
    _fixed({"type": "audio", "data": WAV, "mimeType": "audio/wav"})
)
tool("test_embedded_resource", "an embedded resource answer")(
    _fixed(_embedded("test://embedded-resource", "An embedded resource."))
)
tool("test_multiple_content_types", "text, image and resource in one answer")(
    _fixed(
        _text("Three kinds of content:"),
        _image(),
        _embedded("test://mixed-content-resource", '{"kind": "mixed"}', "application/json"),
    )
)


@tool("test_tool_with_logging", "logs three messages while it runs")
async def _logging(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    for step in ("started", "working", "finished"):
        note = types.LoggingMessageNotification(
            params=types.LoggingMessageNotificationParams(level="info", data=f"tool {step}")
        )
        await ctx.session.send_notification(note, related_request_id=ctx.request_id)
        await anyio.sleep(0.02)
    return {"content": [_text("logged three messages")]}


@tool("test_tool_with_progress", "reports progress 0, 50 and 100 of 100")
async def _progress(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = dict(ctx.meta or {})
    token = meta.get("progress_token", meta.get("progressToken"))
    for done in (0, 50, 100):
        if token is not None:
            await ctx.session.send_progress_notification(
                token, done, 100, f"{done} of 100", related_request_id=str(ctx.request_id)
            )
        await anyio.sleep(0.02)
    return {"content": [_text(str(token))]}


@tool("test_error_handling", "always fails")
async def _error(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"content": [_text("this tool fails on purpose")], "isError": True}


@tool("test_reconnection", "closes its SSE stream before it answers (SEP-1699)")
async def _reconnection(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    # the SDK offers the close to clients at 2025-11-25 or later only (they can resume)
    closed = ctx.close_sse_stream is not None
    if ctx.close_sse_stream is not None:
        await ctx.close_sse_stream()
    await anyio.sleep(0.1)
    how = "after closing its stream" if closed else "on a stream it did not close"
    return {"content": [_text(f"answered {how}")]}


@tool("test_sampling", "asks the client's model", _string_argument("prompt", "what to ask"))
async def _sampling(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    message = types.SamplingMessage(
        role="user", content=types.TextContent(type="text", text=str(arguments.get("prompt", "")))
    )
    request = types.CreateMessageRequest(
        params=types.CreateMessageRequestParams(messages=[message], max_tokens=100)
    )
    result = await ctx.session.send_request(
        request, types.CreateMessageResult, metadata=_related(ctx)
    )
    content = result.content
    text = content.text if isinstance(content, types.TextContent) else "no text"
    return {"content": [_text(f"the model said: {text}")]}


async def _elicit(ctx: Context, message: str, schema: dict[str, Any]) -> dict[str, Any]:
    request = types.ElicitRequest(
        params=types.ElicitRequestFormParams(message=message, requested_schema=schema)
    )
    result = await ctx.session.send_request(request, types.ElicitResult, metadata=_related(ctx))
    answer = json.dumps(result.content or {}, sort_keys=True)
    return {"content": [_text(f"action={result.action} content={answer}")]}


def _related(ctx: Context) -> Any:
    from mcp.shared.message import ServerMessageMetadata

    return ServerMessageMetadata(related_request_id=ctx.request_id)


@tool("test_elicitation", "asks the user", _string_argument("message", "what to ask"))
async def _elicitation(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {"response": {"type": "string", "description": "the answer"}},
        "required": ["response"],
    }
    return await _elicit(ctx, str(arguments.get("message", "")), schema)


@tool("test_elicitation_sep1034_defaults", "a form with a default for each primitive (SEP-1034)")
async def _defaults(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    fields = {
        "name": {"type": "string", "description": "name", "default": "John Doe"},
        "age": {"type": "integer", "description": "age", "default": 30},
        "score": {"type": "number", "description": "score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "verified", "default": True},
    }
    schema = {"type": "object", "properties": fields, "required": []}
    return await _elicit(ctx, "check the defaults", schema)


def _titled(prefix: str, titles: list[str]) -> list[dict[str, str]]:
    return [{"const": f"{prefix}{n}", "title": t} for n, t in enumerate(titles, 1)]


@tool("test_elicitation_sep1330_enums", "a form with the five kinds of enum (SEP-1330)")
async def _enums(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    options = ["option1", "option2", "option3"]
    fields = {
        "untitledSingle": {"type": "string", "description": "one", "enum": options},
        "titledSingle": {
            "type": "string",
            "description": "one, titled",
            "oneOf": _titled("value", ["First Option", "Second Option", "Third Option"]),
        },
        "legacyEnum": {
            "type": "string",
            "description": "one, legacy titles",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "several",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": options},
        },
        "titledMulti": {
            "type": "array",
            "description": "several, titled",
            "minItems": 1,
            "maxItems": 3,
            "items": {"anyOf": _titled("value", ["First Choice", "Second Choice", "Third Choice"])},
        },
    }
    schema = {"type": "object", "properties": fields, "required": []}
    return await _elicit(ctx, "pick from the enums", schema)


@tool(
    "json_schema_2020_12_tool", "an input schema in JSON Schema 2020-12 (SEP-1613)", ADDRESS_SCHEMA
)
async def _schema_2020_12(ctx: Context, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"content": [_text(f"called with {json.dumps(arguments, sort_keys=True)}")]}


async def list_tools(ctx: Context, params: Any) -> dict[str, Any]:
    listed = [
        {"name": name, "description": description, "inputSchema": schema}
        for name, (description, schema, _) in TOOLS.items()
    ]
    return {"tools": listed}


async def call_tool(ctx: Context, params: types.CallToolRequestParams) -> dict[str, Any]:
    found = TOOLS.get(params.name)
    if found is None:
        return {"content": [_text(f"no tool `{params.name}`")], "isError": True}
    return await found[2](ctx, dict(params.arguments or {}))


# -- resources and prompts ---------------------------------------------------------------------

RESOURCES: dict[str, dict[str, Any]] = {
    "test://static-text": {"mimeType": "text/plain", "text": "The static text resource."},
    "test://static-binary": {"mimeType": "image/png", "blob": PIXEL},
    "test://watched-resource": {"mimeType": "text/plain", "text": "The watched resource."},
}
TEMPLATE = "test://template/{id}/data"


async def list_resources(ctx: Context, params: Any) -> dict[str, Any]:
    listed = [
        {"uri": uri, "name": uri.removeprefix("test://"), "mimeType": body["mimeType"]}
        for uri, body in RESOURCES.items()
    ]
    return {"resources": listed}


async def list_templates(ctx: Context, params: Any) -> dict[str, Any]:
    template = {"uriTemplate": TEMPLATE, "name": "template", "mimeType": "application/json"}
    return {"resourceTemplates": [template]}


async def read_resource(ctx: Context, params: types.ReadResourceRequestParams) -> dict[str, Any]:
    uri = str(params.uri)
    if uri in RESOURCES:
        return {"contents": [{"uri": uri, **RESOURCES[uri]}]}
    prefix, suffix = TEMPLATE.split("{id}")
    if uri.startswith(prefix) and uri.endswith(suffix):
        item = uri[len(prefix) : -len(suffix)]
        body = json.dumps({"id": item, "templateTest": True, "data": f"data of {item}"})
        return {"contents": [{"uri": uri, "mimeType": "application/json", "text": body}]}
    raise ValueError(f"no resource `{uri}`")


async def subscription(ctx: Context, params: Any) -> dict[str, Any]:
    return {}


PROMPTS: dict[str, tuple[list[str], Callable[[dict[str, str]], list[dict[str, Any]]]]] = {
    "test_simple_prompt": ([], lambda a: [_text("A simple prompt.")]),
    "test_prompt_with_arguments": (
        ["arg1", "arg2"],
        lambda a: [_text(f"arg1={a.get('arg1')} arg2={a.get('arg2')}")],
    ),
    "test_prompt_with_embedded_resource": (
        ["resourceUri"],
        lambda a: [_embedded(a.get("resourceUri", ""), "Embedded."), _text("Read it.")],
    ),
    "test_prompt_with_image": ([], lambda a: [_image(), _text("Describe the image.")]),
}


async def list_prompts(ctx: Context, params: Any) -> dict[str, Any]:
    listed = [
        {
            "name": name,
            "description": name.replace("_", " "),
            "arguments": [{"name": arg, "required": True} for arg in arguments],
        }
        for name, (arguments, _) in PROMPTS.items()
    ]
    return {"prompts": listed}


async def get_prompt(ctx: Context, params: types.GetPromptRequestParams) -> dict[str, Any]:
    found = PROMPTS.get(params.name)
    if found is None:
        raise ValueError(f"no prompt `{params.name}`")
    messages = found[1](dict(params.arguments or {}))
    return {"messages": [{"role": "user", "content": content} for content in messages]}


async def complete(ctx: Context, params: Any) -> dict[str, Any]:
    return {"completion": {"values": [], "total": 0, "hasMore": False}}


async def set_level(ctx: Context, params: Any) -> dict[str, Any]:
    return {}


def build() -> Server[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # logging/setLevel is deprecated in newer protocols
        return Server(
            "proctor-conformance",
            on_list_tools=list_tools,
            on_call_tool=call_tool,
            on_list_resources=list_resources,
            on_list_resource_templates=list_templates,
            on_read_resource=read_resource,
            on_subscribe_resource=subscription,
            on_unsubscribe_resource=subscription,
            on_list_prompts=list_prompts,
            on_get_prompt=get_prompt,
            on_completion=complete,
            on_set_logging_level=set_level,
        )


class MemoryEventStore(EventStore):
    """Every event of every stream, so a client that reconnects gets what it missed."""

    def __init__(self) -> None:
        self._events: list[tuple[str, str, types.JSONRPCMessage | None]] = []
        self._ids = itertools.count(1)

    async def store_event(self, stream_id: str, message: types.JSONRPCMessage | None) -> str:
        event_id = f"{next(self._ids):08d}"
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(
        self, last_event_id: str, send_callback: EventCallback
    ) -> str | None:
        stream = next((s for e, s, _ in self._events if e == last_event_id), None)
        if stream is None:
            return None
        for event_id, stream_id, message in self._events:
            if stream_id == stream and event_id > last_event_id and message is not None:
                await send_callback(EventMessage(message, event_id))
        return stream


def main(argv: list[str]) -> None:
    server = build()
    options = NotificationOptions(prompts_changed=True, resources_changed=True, tools_changed=True)
    if argv[:1] == ["http"]:
        import uvicorn
        from mcp.server.transport_security import TransportSecuritySettings

        # this address only: a proxy in front must call with the upstream's Host, not its own
        address = f"127.0.0.1:{argv[1]}"
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=[address],
            allowed_origins=[f"http://{address}"],
        )
        app = server.streamable_http_app(
            event_store=MemoryEventStore(), retry_interval=500, transport_security=security
        )
        uvicorn.run(app, host="127.0.0.1", port=int(argv[1]), log_level="warning")
        return
    from mcp.server.stdio import stdio_server

    async def serve() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options(options))

    anyio.run(serve)


if __name__ == "__main__":
    main(sys.argv[1:])
