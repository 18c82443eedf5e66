"""The .wskprops file, property precedence and API host URLs, as openwhisk-cli resolves them."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from pywhisk.cli.config import (
    load_properties,
    parse_props,
    props_file_path,
    read_props,
    render_props,
    url_base,
    with_overrides,
    write_props,
)


def test_parse_props_reads_key_values_and_skips_comments_and_junk() -> None:
    text = "# comment\nAUTH=uuid:key\n\nAPIHOST=http://127.0.0.1:3233 # trailing\nnonsense\n"
    assert parse_props(text) == {"AUTH": "uuid:key", "APIHOST": "http://127.0.0.1:3233"}


def test_parse_props_keeps_values_containing_equals() -> None:
    assert parse_props("AUTH=abc:def==\n") == {"AUTH": "abc:def=="}


def test_render_props_updates_in_place_drops_removed_and_appends_new() -> None:
    existing = "# my settings\nAPIHOST=old\nAUTH=secret\n"
    rendered = render_props(existing, {"APIHOST": "new", "NAMESPACE": "guest"})
    assert rendered == "# my settings\nAPIHOST=new\nNAMESPACE=guest\n"


def test_write_props_creates_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "wskprops"
    write_props(str(path), {"AUTH": "uuid:key"})
    assert path.read_text() == "AUTH=uuid:key\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_props(str(path)) == {"AUTH": "uuid:key"}


def test_read_props_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_props(str(tmp_path / "absent")) == {}


def test_config_file_comes_from_wsk_config_file_even_when_empty() -> None:
    assert props_file_path({"WSK_CONFIG_FILE": "/x/props"}) == "/x/props"
    assert props_file_path({"WSK_CONFIG_FILE": ""}) == ""
    assert props_file_path({}).endswith(".wskprops")


def test_properties_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = tmp_path / "props"
    path.write_text("AUTH=file:key\nAPIHOST=http://file:1/\nAPIVERSION=v9\n")
    env = {"WSK_CONFIG_FILE": str(path), "WHISK_AUTH": "env:key"}
    props = load_properties(env)
    assert props.auth == "env:key"
    assert props.apihost == "http://file:1"  # trailing slash trimmed, as wsk does
    assert props.apiversion == "v9"
    assert props.namespace == "_"
    assert not props.namespace_configured

    flagged = with_overrides(props, auth="flag:key", apihost="", apiversion=None)
    assert flagged.auth == "flag:key"
    assert flagged.apihost == "http://file:1"  # empty flag leaves the property alone
    assert flagged.apiversion == "v9"


def test_namespace_property_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "props"
    path.write_text("NAMESPACE=guest\n")
    props = load_properties({"WSK_CONFIG_FILE": str(path)})
    assert props.namespace == "guest"
    assert props.namespace_configured


def test_defaults_without_a_file() -> None:
    props = load_properties({"WSK_CONFIG_FILE": ""})
    assert (props.auth, props.apihost, props.apiversion, props.namespace) == ("", "", "v1", "_")


@pytest.mark.parametrize(
    ("apihost", "expected"),
    [
        ("http://127.0.0.1:3233", "http://127.0.0.1:3233/api"),
        ("http://127.0.0.1:3233/", "http://127.0.0.1:3233/api"),
        ("https://openwhisk.example.com", "https://openwhisk.example.com/api"),
        # a bare host means https, localhost included (wsk does not special-case it)
        ("localhost:3233", "https://localhost:3233/api"),
        ("openwhisk.example.com", "https://openwhisk.example.com/api"),
        ("httpbin.example.com", "https://httpbin.example.com/api"),
    ],
)
def test_url_base(apihost: str, expected: str) -> None:
    assert url_base(apihost) == expected


def test_url_base_requires_a_host() -> None:
    with pytest.raises(ValueError, match=re.escape("An API host must be provided.")):
        url_base("")
