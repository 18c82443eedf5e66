"""Activation records as the stores keep them: plain documents, and the name each is listed
under (shared by the stores' listings and the usage sums)."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]


def activation_filter_name(doc: Doc) -> str:
    """`[pkg/]name` a record is listed under (OW filters view): run through a binding,
    `binding/name`; else the package of its `path` annotation, if any, and its name."""
    annotations = {
        a.get("key"): a.get("value") for a in doc.get("annotations", ()) if isinstance(a, dict)
    }
    binding, path = annotations.get("binding"), annotations.get("path")
    if isinstance(binding, str) and "/" in binding:
        return f"{binding.partition('/')[2]}/{doc['name']}"
    if isinstance(path, str):
        return path.partition("/")[2] or str(doc["name"])
    return str(doc["name"])
