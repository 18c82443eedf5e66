"""Layers: zip files unpacked under /opt of the containers of the actions that name them, as
AWS Lambda layers are (a pywhisk extension; OpenWhisk has none).

A layer is a document beside actions and packages (`ns/name`, the same name space, so a
layer and an action cannot share a name), holding its zip as base64 with its sha256 digest,
which names the unpacked copy wherever it is cached. Shared like packages: `publish: true`
lets other namespaces name it as `/ns/name`.

An action names its layers, in order (later ones win on a path both hold), in its `layers`
annotation: `["php", "/other/tools"]`.
"""

from __future__ import annotations

import binascii
import hashlib
from typing import Any

LAYER = "layer"
ANNOTATION = "layers"
MAX_ZIP_BYTES = 48 * 1024 * 1024  # Lambda's 50 MB zipped layer, less base64's headroom
MAX_LAYERS = 5  # as Lambda: five layers per function
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


class InvalidLayer(ValueError):
    """A layer PUT body or an action's `layers` annotation that cannot be used."""


def decode_zip(code: Any) -> bytes:
    if not isinstance(code, str) or not code:
        raise InvalidLayer("A layer needs 'code': its zip file, base64-encoded.")
    try:
        data = binascii.a2b_base64("".join(code.split()).encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise InvalidLayer("The layer's code is not valid base64.") from None
    if data[:4] not in ZIP_MAGICS:
        raise InvalidLayer("The layer's code is not a zip file.")
    if len(data) > MAX_ZIP_BYTES:
        raise InvalidLayer(f"The layer's zip file is larger than {MAX_ZIP_BYTES} bytes.")
    return data


def make_layer(
    namespace: str, name: str, body: dict[str, Any], old: dict[str, Any] | None, now: int
) -> dict[str, Any]:
    """The stored document for a PUT of `body` over `old` (None: a new layer)."""
    data = decode_zip(body.get("code"))
    publish = body.get("publish")
    if publish is not None and not isinstance(publish, bool):
        raise InvalidLayer("'publish' must be true or false.")
    annotations = body.get("annotations")
    if annotations is not None and not isinstance(annotations, list):
        raise InvalidLayer("'annotations' must be an array of key-value pairs.")
    version = "0.0.1"
    if old is not None:
        major, minor, patch = ([*str(old.get("version", "0.0.0")).split("."), "0", "0"])[:3]
        version = f"{major}.{minor}.{int(patch) + 1 if patch.isdigit() else 1}"
    return {
        "namespace": namespace,
        "name": name,
        "version": version,
        "publish": bool(publish if publish is not None else (old or {}).get("publish", False)),
        "annotations": annotations
        if annotations is not None
        else (old or {}).get("annotations", []),
        "digest": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "code": "".join(str(body["code"]).split()),
        "updated": now,
        "entityType": LAYER,
    }


def summary(doc: dict[str, Any], with_code: bool = False) -> dict[str, Any]:
    keys = ("namespace", "name", "version", "publish", "annotations", "digest", "size", "updated")
    shown = {key: doc.get(key) for key in keys}
    if with_code:
        shown["code"] = doc.get("code")
    return shown


def layer_refs(annotations: Any) -> list[str]:
    """The `layers` annotation's names, in order; [] when there is none."""
    if not isinstance(annotations, list):
        return []
    for pair in annotations:
        if isinstance(pair, dict) and pair.get("key") == ANNOTATION:
            value = pair.get("value")
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise InvalidLayer("The 'layers' annotation must be an array of layer names.")
            if len(value) > MAX_LAYERS:
                raise InvalidLayer(f"An action can use at most {MAX_LAYERS} layers.")
            return list(value)
    return []


def layer_doc_id(ref: str, namespace: str) -> str:
    """`php` → `ns/php` (the action's own namespace); `/other/php` → `other/php`."""
    parts = ref.strip("/").split("/")
    if ref.startswith("/"):
        if len(parts) != 2 or not all(parts):
            raise InvalidLayer(f"'{ref}' is not a layer name (NAME or /NAMESPACE/NAME).")
        return "/".join(parts)
    if len(parts) != 1 or not parts[0]:
        raise InvalidLayer(f"'{ref}' is not a layer name (NAME or /NAMESPACE/NAME).")
    return f"{namespace}/{parts[0]}"
