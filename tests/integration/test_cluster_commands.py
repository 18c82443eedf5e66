"""`pywhisk controller` and `pywhisk invoker --id N`: options reach the settings, and the
invoker command loads nothing of the controller's but the command module itself."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from pywhisk.deploy.commands import main


def test_help_lists_the_cluster_commands() -> None:
    out = CliRunner().invoke(main, ["--help"]).output
    assert "controller" in out and "invoker" in out
    out = CliRunner().invoke(main, ["invoker", "--help"]).output
    assert "--id" in out and "--queue-url" in out and "--discovery-url" in out
    out = CliRunner().invoke(main, ["controller", "--help"]).output
    assert "--controller-id" in out and "--port" in out


def test_invoker_command_builds_settings_without_controller_modules() -> None:
    script = """
import sys
import pywhisk.invoker.main
seen = {}
def fake_run(settings, on_ready=None):
    seen["s"] = settings
pywhisk.invoker.main.run = fake_run
from pywhisk.deploy.commands import main
try:
    main(["invoker", "--id", "3", "--queue-url", "kafka://h:9092",
          "--discovery-url", "static://?invokers=3", "--user-memory", "1024"])
except SystemExit:
    pass
s = seen["s"]
print(s.invoker_id, s.queue_url, s.discovery_url, s.user_memory)
print(sorted(m for m in sys.modules if m.startswith("pywhisk.controller")))
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[0] == "3 kafka://h:9092 static://?invokers=3 1024"
    assert out[1] == "[]"  # the invoker's command loads nothing of the controller


def test_controller_command_builds_settings() -> None:
    script = """
import pywhisk.controller.cluster
seen = {}
pywhisk.controller.cluster.run = lambda settings, on_ready=None: seen.setdefault("s", settings)
from pywhisk.deploy.commands import main
try:
    main(["controller", "--controller-id", "1", "--port", "4000", "--controller-count", "2"])
except SystemExit:
    pass
s = seen["s"]
print(s.controller_id, s.port, s.controller_count)
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["1", "4000", "2"]
