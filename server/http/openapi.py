"""The OpenAPI 3.1 description of the JSON API, generated from the proto's annotations.

Schemas follow the protobuf JSON mapping: camelCase field names, enums as their value names,
64-bit integers as strings, ``google.rpc.Status`` as the error body. Served at
``/v1/openapi.json``; a test checks it covers every annotated route.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor

from regimenguard.server.http.json_api import SERVICE, http_rules

FD = descriptor.FieldDescriptor
_SCALARS = {
    FD.TYPE_DOUBLE: {"type": "number"},
    FD.TYPE_FLOAT: {"type": "number"},
    FD.TYPE_INT32: {"type": "integer", "format": "int32"},
    FD.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FD.TYPE_UINT32: {"type": "integer", "format": "int32"},
    FD.TYPE_INT64: {"type": "string", "format": "int64"},
    FD.TYPE_UINT64: {"type": "string", "format": "int64"},
    FD.TYPE_BOOL: {"type": "boolean"},
    FD.TYPE_STRING: {"type": "string"},
    FD.TYPE_BYTES: {"type": "string", "format": "byte"},
}
ERROR_SCHEMA = "google.rpc.Status"


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for rule in http_rules():
        method = rule.method
        _schema(method.input_type, schemas)
        _schema(method.output_type, schemas)
        operation: dict[str, Any] = {
            "operationId": method.name,
            "summary": method.name,
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": _ref(method.output_type.full_name)}},
                },
                "default": {
                    "description": "An error: the google.rpc.Status of the gRPC call, as JSON",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
                        }
                    },
                },
            },
        }
        if rule.body == "*":
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(method.input_type.full_name)}},
            }
        else:
            operation["parameters"] = [
                {
                    "name": f.json_name,
                    "in": "query",
                    "required": False,
                    "schema": _field(f, schemas),
                }
                for f in method.input_type.fields
            ]
        paths.setdefault(rule.path, {})[rule.verb.lower()] = operation
    schemas[ERROR_SCHEMA] = {
        "type": "object",
        "properties": {
            "code": {"type": "integer", "format": "int32"},
            "message": {"type": "string"},
            "details": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"@type": {"type": "string"}},
                    "additionalProperties": True,
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "RegimenGuard JSON API",
            "version": SERVICE.file.package,
            "description": (
                "The regimenguard.v1 gRPC API over HTTP with the protobuf JSON mapping "
                "(google.api.http annotations in protos/regimenguard/v1/regimen_checker.proto)."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _ref(full_name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{full_name}"}


def _schema(message: descriptor.Descriptor, schemas: dict[str, Any]) -> None:
    if message.full_name in schemas:
        return
    if message.full_name == ERROR_SCHEMA:
        return
    schemas[message.full_name] = {}  # placeholder against recursion
    schemas[message.full_name] = {
        "type": "object",
        "properties": {f.json_name: _field(f, schemas) for f in message.fields},
        "additionalProperties": False,
    }


def _field(field: FD, schemas: dict[str, Any]) -> dict[str, Any]:
    if field.type == FD.TYPE_MESSAGE:
        if field.message_type.full_name != ERROR_SCHEMA:
            _schema(field.message_type, schemas)
        item: dict[str, Any] = _ref(field.message_type.full_name)
    elif field.type == FD.TYPE_ENUM:
        item = {"type": "string", "enum": [v.name for v in field.enum_type.values]}
    else:
        item = dict(_SCALARS[field.type])
    if field.is_repeated:
        return {"type": "array", "items": item}
    return item
