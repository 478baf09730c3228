"""Regenerate kit_v4_schemas.json from the shared Kit OpenAPI v4 subset (run by hand)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SPEC = REPO.parent / "shared" / "kit" / "kit-v4-openapi-subset.yaml"
OUTPUT = HERE / "kit_v4_schemas.json"

# The operations the sandbox serves; every status the subset documents for them is kept.
OPERATIONS: list[tuple[str, str]] = [
    ("GET", "/v4/account"),
    ("GET", "/v4/subscribers"),
    ("GET", "/v4/tags"),
    ("POST", "/v4/tags"),
    ("GET", "/v4/forms"),
    ("GET", "/v4/sequences"),
    ("GET", "/v4/broadcasts"),
    ("GET", "/v4/custom_fields"),
    ("GET", "/v4/email_templates"),
]


def extract(spec_text: str) -> dict[str, Any]:
    """Return the trimmed document: ``"METHOD /path status"`` -> response schema.

    Schemas are copied verbatim (OpenAPI 3.0 dialect). The spec's response examples go under
    ``"_examples"`` with the same keys, and ``"_source"`` records where it all came from.

    Args:
        spec_text: The YAML text of the OpenAPI subset.

    Returns:
        The JSON-ready document.

    Raises:
        KeyError: An operation or its JSON response schema is missing from the spec.
    """
    spec = yaml.safe_load(spec_text)
    schemas: dict[str, Any] = {}
    examples: dict[str, Any] = {}
    for method, path in OPERATIONS:
        operation = spec["paths"][path][method.lower()]
        for status, response in operation["responses"].items():
            media = response["content"]["application/json"]
            key = f"{method} {path} {int(status)}"
            schemas[key] = media["schema"]
            if "example" in media:
                examples[key] = media["example"]
    info = spec["info"]
    source = {
        "file": "shared/kit/kit-v4-openapi-subset.yaml (next to this repo; see its SOURCES.md)",
        "sha256": hashlib.sha256(spec_text.encode()).hexdigest(),
        "spec": f"{info['title']} {info['version']}, OpenAPI {spec['openapi']}",
        "what": "Response schemas (verbatim, OpenAPI 3.0 dialect) of the operations the "
        "sandbox serves, keyed 'METHOD /path status'; '_examples' holds the spec's examples.",
        "regenerate": "python tests/sandbox/extract_schemas.py",
    }
    return {"_source": source, **schemas, "_examples": examples}


def main(argv: list[str]) -> int:
    """Write ``kit_v4_schemas.json`` from the spec (or the path given as the only argument).

    Args:
        argv: Command-line arguments after the program name.

    Returns:
        The exit status: 0 on success, 1 when the spec is not there.
    """
    spec_path = Path(argv[0]) if argv else SPEC
    if not spec_path.is_file():
        print(f"{spec_path} not found; keeping the committed {OUTPUT.name}.", file=sys.stderr)
        return 1
    document = extract(spec_path.read_text(encoding="utf-8"))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    OUTPUT.write_text(text, encoding="utf-8")
    count = sum(1 for key in document if not key.startswith("_"))
    print(f"Wrote {count} schemas to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
