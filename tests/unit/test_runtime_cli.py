"""The action proxy's hand-written argument parser (argparse costs start-up time)."""

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
