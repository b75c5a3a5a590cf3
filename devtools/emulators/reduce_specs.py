"""Renew `devtools/emulators/specs/`: the response schemas of the provider operations
NemoRDP uses, reduced from a provider's published OpenAPI description to their structure.

References are inlined and only types, properties, required fields, items, enums and
nullability stay (OpenAPI's ``nullable`` becomes a JSON Schema ``null`` type); descriptions
and examples are left out. The emulator fidelity test (`tests/devtools`) validates the
emulators' answers against the result, so neither depends on the description itself.

    python -m devtools.emulators.reduce_specs vultr vultr-v2-openapi.json
    python -m devtools.emulators.reduce_specs contabo contabo-v1-openapi.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

SPECS = Path(__file__).parent / "specs"
KEPT = {"type", "properties", "required", "items", "enum", "additionalProperties"}

# Per provider: the file written and the (method, path, status) of each operation used.
OPERATIONS: dict[str, tuple[str, list[tuple[str, str, int]]]] = {
    "vultr": (
        "vultr-v2-responses.json",
        [
            ("POST", "/instances", 202),
            ("GET", "/instances", 200),
            ("GET", "/instances/{instance-id}", 200),
            ("PATCH", "/instances/{instance-id}", 202),
            ("POST", "/instances/{instance-id}/reinstall", 202),
            ("GET", "/instances/{instance-id}/bandwidth", 200),
            ("GET", "/os", 200),
            ("POST", "/snapshots", 201),
            ("GET", "/snapshots", 200),
            ("GET", "/snapshots/{snapshot-id}", 200),
            ("DELETE", "/snapshots/{snapshot-id}", 204),
            ("POST", "/instances/{instance-id}/restore", 202),
            ("GET", "/ssh-keys", 200),
            ("POST", "/ssh-keys", 201),
        ],
    ),
    "contabo": (
        "contabo-v1-responses.json",
        [
            ("POST", "/v1/secrets", 201),
            ("GET", "/v1/secrets", 200),
            ("POST", "/v1/compute/instances", 201),
            ("GET", "/v1/compute/instances", 200),
            ("GET", "/v1/compute/instances/{instanceId}", 200),
            ("PUT", "/v1/compute/instances/{instanceId}", 200),
            ("POST", "/v1/compute/instances/{instanceId}/cancel", 201),
            ("POST", "/v1/compute/instances/{instanceId}/actions/start", 201),
            ("POST", "/v1/compute/instances/{instanceId}/actions/shutdown", 201),
            ("POST", "/v1/compute/instances/{instanceId}/actions/restart", 201),
            ("GET", "/v1/compute/images", 200),
            ("GET", "/v1/compute/instances/{instanceId}/snapshots", 200),
            ("POST", "/v1/compute/instances/{instanceId}/snapshots", 201),
            ("GET", "/v1/compute/instances/{instanceId}/snapshots/{snapshotId}", 200),
            ("DELETE", "/v1/compute/instances/{instanceId}/snapshots/{snapshotId}", 204),
            ("POST", "/v1/compute/instances/{instanceId}/snapshots/{snapshotId}/rollback", 200),
        ],
    ),
}


def reduced(spec: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with references inlined and only the structural keywords kept."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:  # a recursive schema: accept anything below the loop
            return {}
        return reduced(spec, spec["components"]["schemas"][name], (*seen, name))
    if "allOf" in node:
        parts = [reduced(spec, part, seen) for part in node["allOf"]]
        if len(parts) == 1:
            return parts[0]
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in parts:
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return merged
    if "oneOf" in node or "anyOf" in node:
        choices: list[Any] = node.get("oneOf") or node["anyOf"]
        return {"anyOf": [reduced(spec, part, seen) for part in choices]}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key not in KEPT:
            continue
        if key == "properties":
            out[key] = {name: reduced(spec, schema, seen) for name, schema in value.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = reduced(spec, value, seen)
        else:
            out[key] = value
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def responses(spec: dict[str, Any], operations: list[tuple[str, str, int]]) -> dict[str, Any]:
    """Each operation's JSON response schema, keyed "METHOD path status" (None: no body)."""
    found: dict[str, Any] = {}
    for method, path, status in operations:
        answer = spec["paths"][path][method.lower()]["responses"][str(status)]
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        found[f"{method} {path} {status}"] = None if schema is None else reduced(spec, schema)
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("provider", choices=sorted(OPERATIONS))
    parser.add_argument("description", type=Path, help="the published OpenAPI file")
    args = parser.parse_args(argv)
    spec = yaml.safe_load(args.description.read_text())  # JSON is YAML too
    target, operations = OPERATIONS[args.provider]
    text = json.dumps(responses(spec, operations), indent=1, sort_keys=True)
    (SPECS / target).write_text(text + "\n")


if __name__ == "__main__":
    main()
