"""``tsdx contract``: the AMQP contract, generated from the code so it cannot drift.

- ``tsdx contract schemas --out docs/schemas``: one JSON Schema per message type on the events
  exchange (the whole envelope, its ``payload`` typed), plus ``envelope.json``;
- ``tsdx contract asyncapi --out docs/asyncapi.yaml``: an AsyncAPI 3.0 document of the same.

Message types come from the contract registry (``shared.contracts.registered_types``); routing
keys, exchanges and the queues that consume each key from ``shared.messaging.topology``.
A type bound to no queue of the events exchange (the internal RPC request) is not part of it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml

from shared.contracts import Envelope, Payload, registered_types
from shared.contracts.documents import Channel
from shared.messaging.topology import (
    DEVICE_NEWS_KEYS,
    EVENTS_EXCHANGE,
    WORK_QUEUES,
    device_news_of,
)

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION = "3.0.0"
AMQP_BINDING_VERSION = "0.3.0"

# What an outside adapter does with each type; every other type is internal to tsdx.
ADAPTER_PUBLISHES = frozenset({"upload.requested"})
ADAPTER_SUBSCRIBES = frozenset({"upload.decided", "document.completed"})

_GENERATED_NAME = re.compile(r"^[a-z_.]+\.v\d+\.json$")


@dataclass(frozen=True)
class MessageType:
    model: type[Payload]
    routing_keys: tuple[str, ...]
    consumers: dict[str, tuple[str, ...]]  # routing key -> queues bound to it

    @property
    def name(self) -> str:
        return f"{self.model.TYPE}.v{self.model.VERSION}"

    @property
    def audience(self) -> str:
        if self.model.TYPE in ADAPTER_PUBLISHES:
            return "adapters publish"
        if self.model.TYPE in ADAPTER_SUBSCRIBES:
            return "adapters subscribe"
        return "internal"

    @property
    def summary(self) -> str:
        return (self.model.__doc__ or self.model.TYPE).strip().splitlines()[0]


def routing_keys(model: type[Payload]) -> tuple[str, ...]:
    """The keys a payload is published with: its type, or one per channel when the key
    names the channel (so each channel's consumer binds only its own); and the news key of
    each, where it is published as news (shared/messaging/topology.py)."""
    if model.routing_key is Payload.routing_key:
        keys = {model.TYPE}
    else:
        keys = {
            model.model_construct(**{"channel": channel}).routing_key()
            for channel in get_args(Channel)
        }
    news = {device_news_of(key) for key in keys} & DEVICE_NEWS_KEYS
    return tuple(sorted(keys | news))


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` zero or more."""
    return _match(pattern.split("."), key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head in ("*", words[0])) and _match(rest, words[1:])


def message_types() -> list[MessageType]:
    """Every registered type that travels on the events exchange, ordered by name."""
    found = []
    for (_, _), model in sorted(registered_types().items()):
        keys = routing_keys(model)
        consumers = {
            key: tuple(
                q.name for q in WORK_QUEUES if any(topic_matches(b, key) for b in q.bindings)
            )
            for key in keys
        }
        if any(consumers.values()):
            found.append(MessageType(model, keys, consumers))
    return found


# JSON Schemas --------------------------------------------------------------------------------


def envelope_schema() -> dict[str, Any]:
    schema = Envelope.model_json_schema()
    return {"$schema": SCHEMA_DIALECT, "$id": "envelope.json", **schema}


def message_schema(message: MessageType) -> dict[str, Any]:
    """The whole message body: the envelope with ``type`` and ``version`` fixed and the
    ``payload`` validated by the type's model."""
    model = message.model
    payload = model.model_json_schema()
    defs: dict[str, Any] = payload.pop("$defs", {})
    defs[model.__name__] = payload
    envelope = Envelope.model_json_schema()
    properties = dict(envelope["properties"])
    properties["type"] = {**properties["type"], "const": model.TYPE}
    properties["version"] = {**properties["version"], "const": model.VERSION}
    properties["payload"] = {"$ref": f"#/$defs/{model.__name__}"}
    required = list(envelope.get("required", []))
    if model.TYPE in ADAPTER_PUBLISHES:
        # Routing needs to know whose documents these are, and a message id lets a message
        # published twice be applied once.
        properties["tenant"] = {"type": "string", "minLength": 1, "maxLength": 64}
        required = ["id", *required, "tenant"]
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{message.name}.json",
        "title": f"{model.TYPE} v{model.VERSION}",
        "description": (model.__doc__ or "").strip(),
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "$defs": dict(sorted(defs.items())),
    }


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def schema_files() -> dict[str, str]:
    """File name -> text of every generated schema."""
    files = {"envelope.json": as_json(envelope_schema())}
    for message in message_types():
        files[f"{message.name}.json"] = as_json(message_schema(message))
    return files


# AsyncAPI ------------------------------------------------------------------------------------


def _channel_id(key: str) -> str:
    words = re.split(r"[._]", key)
    return words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def _rehome_refs(value: Any) -> Any:
    """Local ``#/$defs/X`` references as AsyncAPI components: ``#/components/schemas/X``."""
    if isinstance(value, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/")
                if k == "$ref" and isinstance(v, str)
                else _rehome_refs(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_rehome_refs(v) for v in value]
    return value


def _add_schema(schemas: dict[str, Any], name: str, schema: dict[str, Any]) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"two different schemas are both named {name!r}")
    schemas[name] = schema


def asyncapi_document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for message in message_types():
        full = message_schema(message)
        for name, schema in full.pop("$defs").items():
            _add_schema(schemas, name, _rehome_refs(schema))
        for key in ("$schema", "$id"):
            full.pop(key)
        envelope_name = f"{message.model.__name__}Message"
        _add_schema(schemas, envelope_name, _rehome_refs(full))
        messages[message.name] = {
            "name": message.model.TYPE,
            "title": f"{message.model.TYPE} v{message.model.VERSION}",
            "summary": message.summary,
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{envelope_name}"},
            "correlationId": {"location": "$message.payload#/correlation_id"},
            "tags": [{"name": message.audience}],
            "bindings": {
                "amqp": {"messageType": message.model.TYPE, "bindingVersion": AMQP_BINDING_VERSION}
            },
        }
        for key in message.routing_keys:
            channel_id = _channel_id(key)
            channels[channel_id] = {
                "address": key,
                "description": f"Routing key `{key}` on the `{EVENTS_EXCHANGE}` topic exchange; "
                f"consumed by: {', '.join(message.consumers[key]) or 'nobody'}.",
                "messages": {message.name: {"$ref": f"#/components/messages/{message.name}"}},
                "bindings": {
                    "amqp": {
                        "is": "routingKey",
                        "exchange": {
                            "name": EVENTS_EXCHANGE,
                            "type": "topic",
                            "durable": True,
                            "autoDelete": False,
                        },
                        "bindingVersion": AMQP_BINDING_VERSION,
                    }
                },
            }
            operations.update(_operations(message, channel_id))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "tsdx events",
            "version": "1",
            "description": "Messages on the tsdx events exchange, as seen from tsdx. Adapters of "
            "accounting systems publish `upload.requested` and subscribe to `upload.decided` "
            "and `document.completed`; every other message is internal to tsdx and shown for "
            "operators. See docs/amqp-contract.md. Generated by `tsdx contract asyncapi`.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {
                "host": "localhost:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "RabbitMQ; the virtual host and credentials are those of "
                "TSDX_AMQP_URL.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def _operations(message: MessageType, channel_id: str) -> dict[str, Any]:
    """tsdx receives what adapters publish and sends the rest (internal ones to itself)."""
    channel = {"$ref": f"#/channels/{channel_id}"}
    refs = [{"$ref": f"#/channels/{channel_id}/messages/{message.name}"}]
    tags = [{"name": message.audience}]
    if message.model.TYPE in ADAPTER_PUBLISHES:
        return {
            f"receive{channel_id[:1].upper()}{channel_id[1:]}": {
                "action": "receive",
                "channel": channel,
                "messages": refs,
                "summary": f"Adapters publish: {message.summary}",
                "tags": tags,
                "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
            }
        }
    return {
        f"send{channel_id[:1].upper()}{channel_id[1:]}": {
            "action": "send",
            "channel": channel,
            "messages": refs,
            "summary": message.summary,
            "tags": tags,
            "bindings": {
                "amqp": {
                    "deliveryMode": 2,
                    "mandatory": True,
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
    }


def asyncapi_text() -> str:
    header = "# Generated by `tsdx contract asyncapi`; edit the models, not this file.\n"
    body = yaml.safe_dump(asyncapi_document(), allow_unicode=True, sort_keys=False, width=100)
    return header + body


# Commands ------------------------------------------------------------------------------------


def write_schemas(out: Path) -> list[str]:
    """Write every schema into ``out``; remove generated files no model produces any more."""
    files = schema_files()
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        if stale.name not in files and _GENERATED_NAME.match(stale.name):
            stale.unlink()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return sorted(files)


def stale_schemas(out: Path) -> list[str]:
    """Names of files in ``out`` that differ from what the generator gives now."""
    files = schema_files()
    present = {p.name for p in out.glob("*.json")} if out.is_dir() else set()
    differ = [
        name
        for name, text in files.items()
        if name not in present or (out / name).read_text(encoding="utf-8") != text
    ]
    extra = [n for n in present - set(files) if _GENERATED_NAME.match(n)]
    return sorted([*differ, *extra])


def _schemas(args: argparse.Namespace) -> int:
    if args.check:
        stale = stale_schemas(args.out)
        for name in stale:
            print(f"{args.out / name}: not what the models give; run tsdx contract schemas")
        return 1 if stale else 0
    for name in write_schemas(args.out):
        print(args.out / name)
    return 0


def _asyncapi(args: argparse.Namespace) -> int:
    text = asyncapi_text()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out and args.out.exists() else None
        if current != text:
            print(
                f"{args.out}: not what the models give; run tsdx contract asyncapi --out {args.out}"
            )
            return 1
        return 0
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(args.out)
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contract = commands.add_parser("contract", help="generate the AMQP contract documents")
    actions = contract.add_subparsers(dest="action", metavar="ACTION", required=True)
    schemas = actions.add_parser("schemas", help="JSON Schemas of the messages")
    schemas.add_argument("--out", type=Path, default=Path("docs/schemas"), help="directory")
    schemas.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    schemas.set_defaults(run=_schemas)
    asyncapi = actions.add_parser("asyncapi", help="the AsyncAPI 3.0 document")
    asyncapi.add_argument("--out", type=Path, help="file to write (default: stdout)")
    asyncapi.add_argument("--check", action="store_true", help="exit 1 if --out is stale")
    asyncapi.set_defaults(run=_asyncapi)
