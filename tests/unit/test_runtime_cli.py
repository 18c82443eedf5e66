"""The action proxy's hand-written argument parser (argparse costs start-up time)."""

import os

import pytest

from pywhisk.action_runtime.cli import UsageError, parse_args


def test_defaults_and_both_flag_forms():
    options = parse_args(["--language", "php"])
    assert (options.language, options.host, options.port) == ("php", "0.0.0.0", 8080)
    assert options.listen_fd is options.interpreter is options.kind is None
    options = parse_args(
        [
            "--language=nodejs",
            "--listen-fd",
            "7",
            "--interpreter=/usr/bin/node",
            "--kind",
            "nodejs:20",
        ]
    )
    assert (options.language, options.listen_fd) == ("nodejs", 7)
    assert (options.interpreter, options.kind) == ("/usr/bin/node", "nodejs:20")
    options = parse_args(["--language", "python", "--host", "127.0.0.1", "--port=9000"])
    assert (options.host, options.port) == ("127.0.0.1", 9000)
    assert options.unzip_max is None  # the proxy's default, 256 MB
    assert parse_args(["--language", "php", "--unzip-max=1000"]).unzip_max == 1000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "--language must be one of: nodejs, php, provided, python"),
        (["--language", "ruby"], "--language must be one of"),
        (["--language", "php", "--port", "http"], "--port needs a number"),
        (["--language", "php", "--listen-fd"], "--listen-fd needs a value"),
        (["--language", "php", "--verbose"], "unknown argument: --verbose"),
        (["--language", "php", "--unzip-max", "1G"], "--unzip-max needs a number"),
    ],
)
def test_usage_errors(argv: list[str], message: str):
    with pytest.raises(UsageError, match=message):
        parse_args(argv)


def test_help_is_a_usage_error_without_message():
    with pytest.raises(UsageError) as caught:
        parse_args(["--help"])
    assert str(caught.value) == ""


def test_options_read_from_a_descriptor_until_eof():
    """A spare sandbox's proxy learns its language once it is adopted: NUL-separated
    arguments down a pipe, taken as if they stood where --options-fd stands."""
    read, write = os.pipe()
    os.write(write, b"--language\0php\0--interpreter\0/usr/bin/php 8\0--kind\0php:8.2\0")
    os.close(write)
    options = parse_args(["--listen-fd", "5", "--options-fd", str(read), "--unzip-max", "9"])
    assert (options.language, options.interpreter, options.kind) == (
        "php",
        "/usr/bin/php 8",
        "php:8.2",
    )
    assert (options.listen_fd, options.unzip_max) == (5, 9)
    with pytest.raises(OSError):
        os.fstat(read)  # read to its end and closed: the action never inherits it


def test_options_descriptor_that_is_not_open():
    read, write = os.pipe()
    os.close(read)
    os.close(write)
    with pytest.raises(UsageError, match=f"--options-fd {read}: "):
        parse_args(["--options-fd", str(read)])


def test_only_the_kind_comes_at_adoption():
    from pywhisk.action_runtime.adoption import AdoptionError, late_kind

    assert late_kind(["--kind", "python:3.12"]) == "python:3.12"
    assert late_kind(["--kind=php:8.3"]) == "php:8.3"
    with pytest.raises(AdoptionError, match="only --kind"):
        late_kind(["--language", "php"])
