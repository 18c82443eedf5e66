"""``--web`` and ``--web-secure``: the annotations they add to an action, as wsk computes them.

``--web true|yes`` sets ``web-export:true, raw-http:false, final:true``; ``raw`` sets
``raw-http:true``; ``false|no`` sets all three false. ``--web-secure true`` stores a random
number in ``require-whisk-auth`` (kept if one is already there), ``false`` removes it, any
other value is the secret itself. On update, wsk carries the existing action's web and
security annotations forward so a partial command does not drop them.
"""

from __future__ import annotations

import copy
from typing import Any

from pywhisk.cli.errors import usage_error

WEB_EXPORT = "web-export"
RAW_HTTP = "raw-http"
FINAL = "final"
WEB_SECURE = "require-whisk-auth"
MAX_JS_INT = (1 << 53) - 1  # secrets stay exact in JavaScript and the API gateway

Annotations = list[dict[str, Any]]


def get_value(annotations: Annotations | None, key: str) -> Any:
    for item in annotations or []:
        if item.get("key") == key:
            return item.get("value")
    return None


def find_index(annotations: Annotations | None, key: str) -> int:
    for index, item in enumerate(annotations or []):
        if str(item.get("key", "")).lower() == key.lower():
            return index
    return -1


def append_missing(annotations: Annotations | None, extra: Annotations | None) -> Annotations:
    """``AppendKeyValueArr``: add the entries of ``extra`` whose keys are not present."""
    out = list(annotations or [])
    for item in extra or []:
        if find_index(out, str(item.get("key", ""))) == -1:
            out.append(item)
    return out


def add_or_replace(annotations: Annotations, key: str, value: Any) -> Annotations:
    out = [dict(item) for item in annotations]
    replaced = False
    for item in out:
        if str(item.get("key", "")).lower() == key.lower():
            item["value"] = value
            replaced = True
    if not replaced:
        out.append({"key": key, "value": value})
    return out


def delete_key(annotations: Annotations, key: str) -> Annotations:
    out = list(annotations)
    for index, item in enumerate(out):
        if item.get("key") == key:
            del out[index]
            break
    return out


def is_web_action(annotations: Annotations | None) -> bool:
    return get_value(annotations, WEB_EXPORT) is True


def _set_web(annotations: Annotations, export: bool, raw: bool, final: bool) -> Annotations:
    for key in (WEB_EXPORT, RAW_HTTP, FINAL):
        annotations = delete_key(annotations, key)
    return [
        *annotations,
        {"key": WEB_EXPORT, "value": export},
        {"key": RAW_HTTP, "value": raw},
        {"key": FINAL, "value": final},
    ]


WEB_MODES = {
    "yes": (True, False, True),
    "true": (True, False, True),
    "raw": (True, True, True),
    "no": (False, False, False),
    "false": (False, False, False),
}


def web_annotations(
    mode: str, annotations: Annotations | None, existing: dict[str, Any] | None
) -> Annotations:
    """``webAction``: apply one ``--web`` mode to the command line's annotations."""
    flags = WEB_MODES.get(mode.lower())
    if flags is None:
        raise usage_error(
            f"Invalid argument '{mode}' for --web flag. Valid input consist of "
            "'yes', 'true', 'raw', 'false', or 'no'."
        )
    result = list(annotations or [])
    if annotations is None and existing is not None:
        result = append_missing(result, existing.get("annotations"))
    return _set_web(result, *flags)


def _existing_subset(existing: dict[str, Any], keys: tuple[str, ...]) -> Annotations:
    annotations = existing.get("annotations") or []
    found = []
    for key in keys:
        index = find_index(annotations, key)
        if index > -1:
            found.append(annotations[index])
    return found


def secret_for(web_secure: str) -> Any:
    """``webSecureSecret``: a random number for "true", False for "false", else the text."""
    lowered = web_secure.lower()
    if lowered == "true":
        # imported here: secrets loads OpenSSL's hashes, which every `wsk action` command
        # would otherwise pay for at start-up
        import secrets

        return secrets.randbits(63) & MAX_JS_INT
    if lowered == "false":
        return False
    return web_secure


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def update_web_secure(web_secure: str, annotations: Annotations) -> Annotations:
    secret = secret_for(web_secure)
    existing = get_value(annotations, WEB_SECURE)
    if _is_number(existing) and _is_number(secret):
        return annotations  # keep the secret clients already use
    if existing is not None and secret is False:
        return delete_key(annotations, WEB_SECURE)
    return add_or_replace(annotations, WEB_SECURE, secret)


def augment(
    action: dict[str, Any],
    existing: dict[str, Any] | None,
    *,
    web: str | None,
    web_secure: str | None,
) -> dict[str, Any]:
    """``augmentWebArg`` + ``augmentWebSecureArg``: the action body with web annotations.

    ``web``/``web_secure`` are None when the flag was not given. ``action`` has an
    ``annotations`` key only if ``-a/-A`` were given.
    """
    result = copy.deepcopy(action)
    if web is not None:
        result["annotations"] = web_annotations(web, action.get("annotations"), existing)
        if existing is not None:
            kept = _existing_subset(existing, (WEB_SECURE,))
            result["annotations"] = append_missing(result["annotations"], kept)
    if web_secure is None:
        return result

    disabling = (web or "").lower() in ("false", "no")
    current = result.get("annotations")
    allowed = is_web_action(current) or (
        existing is not None and is_web_action(existing.get("annotations")) and not disabling
    )
    if not allowed:
        raise usage_error("The --web-secure option is only valid when the --web option is enabled.")
    annotations = list(current or [])
    if existing is not None:
        if current is None:
            annotations = append_missing(annotations, existing.get("annotations"))
        else:
            annotations = append_missing(
                annotations, _existing_subset(existing, (WEB_EXPORT, RAW_HTTP, FINAL))
            )
            annotations = append_missing(annotations, _existing_subset(existing, (WEB_SECURE,)))
    if get_value(annotations, WEB_SECURE) is not None and secret_for(web_secure) is False:
        deleted = list(result.get("delAnnotations") or [])
        if WEB_SECURE not in deleted:
            deleted.append(WEB_SECURE)
        result["delAnnotations"] = deleted
    result["annotations"] = update_web_secure(web_secure, annotations)
    return result
