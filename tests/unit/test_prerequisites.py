"""A machine's missing prerequisite skips a test on a developer's machine and fails it under
CI; a missing program the test command installs fails it everywhere."""

from __future__ import annotations

import pytest

from tests.support.prerequisites import program, require


def test_a_missing_prerequisite_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        require(False, "needs root")
    require(True, "needs root")  # met: nothing happens


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_under_ci_a_missing_prerequisite_fails(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match=r"needs root \(CI=true"):
        require(False, "needs root")
    require(True, "needs root")


def test_a_program_the_test_command_installs_is_never_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install nginx-light"):
        program("nginx", "nginx-light")
