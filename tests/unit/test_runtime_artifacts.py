"""Decoding /init code: base64 strictness and archive detection."""

import base64

import pytest

from pywhisk.action_runtime.artifacts import BadCode, decode_base64, is_zip


def test_decode_base64_round_trip_and_line_breaks():
    data = bytes(range(256)) * 3
    encoded = base64.encodebytes(data).decode()  # 76-character lines, as some encoders do
    assert "\n" in encoded
    assert decode_base64(encoded) == data
    assert decode_base64(base64.b64encode(data).decode()) == data


@pytest.mark.parametrize("code", ["@@not base64@@", "abc", "YWJj=ZGVm", "snow\u2603man"])
def test_decode_base64_is_strict(code: str):
    with pytest.raises(BadCode, match="Invalid base64 code"):
        decode_base64(code)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"PK\x03\x04rest", True),
        (b"PK\x05\x06" + b"\0" * 18, True),
        (b"PK\x07\x08", True),
        (b"\x1f\x8b\x08\x00", False),
        (b"def main(args): pass", False),
        (b"", False),
    ],
)
def test_is_zip(data: bytes, expected: bool):
    assert is_zip(data) is expected
