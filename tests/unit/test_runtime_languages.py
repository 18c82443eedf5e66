"""The per-language table of the action proxy."""

import os

import pytest

from pywhisk.action_runtime.languages import HERE, LANGUAGES, find_interpreter, which
from pywhisk.action_runtime.proxy import env_string


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "php",
            "The php:8.2 runtime needs the 'php' command, which is not installed "
            "(apt-get install php-cli).",
        ),
        (
            "nodejs",
            "The nodejs:20 runtime needs the 'node' command, which is not installed "
            "(apt-get install nodejs).",
        ),
        (
            "python",
            "The python:3.11 runtime needs the 'python3' command, which is not installed "
            "(apt-get install python3).",
        ),
    ],
)
def test_missing_message_names_command_and_package(language: str, message: str):
    assert LANGUAGES[language].missing_message() == message


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_argv_runs_the_launcher_file_next_to_the_module(language: str):
    spec = LANGUAGES[language]
    argv = spec.argv("/opt/interp")
    assert argv[0] == "/opt/interp"
    assert argv[-1] == os.path.join(HERE, spec.launcher)
    assert os.path.isfile(argv[-1])


def test_which_and_overrides():
    assert which("definitely-not-a-command-xyz", path="/usr/bin:/bin") is None
    assert which("/nonexistent/python3") is None
    assert find_interpreter(LANGUAGES["php"], "/nonexistent/php") is None


@pytest.mark.parametrize(
    ("value", "text"),
    [("plain", "plain"), (None, ""), (True, "true"), (3, "3"), ({"a": [1]}, '{"a":[1]}')],
)
def test_env_values_are_stringified_like_openwhisk(value: object, text: str):
    assert env_string(value) == text
