"""`python -m bench cli`: how long a whole `wsk` process takes, beside a bare interpreter's.

    python -m bench cli [--runs N] [--wheel] [--other LABEL=PYTHON ...]

Starts a standalone server with one namespace holding one action, writes a properties file
for it, then runs each command N times as a person's shell would (a new process, output to
/dev/null, from a directory of its own), interleaved round by round so that the machine's
load hits every command alike. Prints each command's median wall time, its 90th percentile,
its median CPU time (user + system, less disturbed by other processes than the wall time),
and its wall time's ratio to `python -c pass` run by the same interpreter: the floor every
Python program pays (`python -c 'import click'` is the floor of a click program).

The checkout's own environment is measured (its editable install adds an import finder to
every interpreter start). `--wheel` adds the checkout built as a wheel and installed into a
fresh environment borrowing this one's dependencies, as a user's non-editable install;
`--other LABEL=PYTHON` adds the `wsk` installed beside another interpreter, e.g. an older
checkout's, to compare in the same run. The commands run with bytecode caching on (a user's
install has its .pyc files), whatever PYTHONDONTWRITEBYTECODE says here, and no PYTHONPATH.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

from tests.support.server import StandaloneServer

REPO = Path(__file__).resolve().parent.parent
NOOP = "def main(args):\n    return {}\n"


def wsk_of(python: Path) -> Path:
    """The `wsk` console script installed beside an environment's interpreter."""
    script = python.parent / "wsk"
    if not script.exists():
        raise SystemExit(f"no wsk beside {python}: install the checkout (pip install -e .)")
    return script


def commands(python: Path, label: str) -> dict[str, list[str]]:
    wsk = str(wsk_of(python))
    tag = f" ({label})" if label else ""
    return {
        f"wsk property get{tag}": [wsk, "property", "get"],
        f"wsk --help{tag}": [wsk, "--help"],
        f"wsk action list{tag}": [wsk, "action", "list"],
        f"python -c pass{tag}": [str(python), "-c", "pass"],
    }


def time_once(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, cpu


def measure(
    rows: dict[str, list[str]], runs: int, env: dict[str, str], cwd: Path
) -> dict[str, list[tuple[float, float]]]:
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in rows}
    for argv in rows.values():  # once each first: bytecode, page cache, the server's first answers
        time_once(argv, env, cwd)
    for _ in range(runs):
        for name, argv in rows.items():
            timings[name].append(time_once(argv, env, cwd))
    return timings


def report(timings: dict[str, list[tuple[float, float]]], baselines: dict[str, str]) -> None:
    print(f"{'command':<38} {'median':>8} {'p90':>8} {'CPU':>8}  × python -c pass")
    for name, samples in timings.items():
        wall = sorted(sample[0] for sample in samples)
        median = statistics.median(wall)
        p90 = wall[min(len(wall) - 1, int(len(wall) * 0.9))]
        cpu = statistics.median(sample[1] for sample in samples)
        base = statistics.median(sample[0] for sample in timings[baselines[name]])
        print(
            f"{name:<38} {median * 1000:6.1f}ms {p90 * 1000:6.1f}ms {cpu * 1000:6.1f}ms"
            f"  {median / base:5.2f}"
        )


def purelib(python: Path | str) -> str:
    return subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def wheel_install(tmp: Path) -> Path:
    """The checkout as a wheel in a fresh environment; its interpreter."""
    source = tmp / "source"  # a copy: building in the checkout would leave build/ there
    shutil.copytree(
        REPO, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info")
    )
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", tmp / "dist", source], check=True)
    python = tmp / "wheel-venv" / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", python.parent.parent], check=True
    )
    wheel = next((tmp / "dist").glob("pywhisk-*.whl"))
    subprocess.run([*pip, "--python", python, "install", "-q", "--no-deps", wheel], check=True)
    # The dependencies are this environment's: its site-packages on the path, without its
    # .pth files (so the editable install's finder stays out).
    Path(purelib(python), "borrowed-dependencies.pth").write_text(purelib(sys.executable) + "\n")
    return python


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="pywhisk-bench-") as tmp_name:
        tmp = Path(tmp_name)
        python = Path(sys.executable)
        rows = {
            "python -S -c pass": [str(python), "-S", "-c", "pass"],
            # the floor of any click program: what is left is wsk's own
            "python -c 'import click'": [str(python), "-c", "import click"],
            **commands(python, ""),
        }
        baselines = {name: "python -c pass" for name in rows}
        others = [tuple(other.split("=", 1)) for other in args.other]
        if args.wheel:
            others.append(("wheel", str(wheel_install(tmp))))
        for label, other in others:
            extra = commands(Path(other), label)
            rows.update(extra)
            baselines.update({name: f"python -c pass ({label})" for name in extra})

        server = StandaloneServer(tmp / "server")
        server.start(120.0)
        try:
            namespace = server.create_namespace("bench")
            props = tmp / "wskprops"
            props.write_text(f"APIHOST={server.url}\nAUTH={namespace.auth}\n")
            env = {**os.environ, "WSK_CONFIG_FILE": str(props)}
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env.pop("PYTHONPATH", None)  # a user's shell has none; it would lengthen sys.path
            (tmp / "noop.py").write_text(NOOP)
            create = [str(wsk_of(python)), "action", "create", "noop", str(tmp / "noop.py")]
            subprocess.run(create, env=env, check=True, stdout=subprocess.DEVNULL)
            work = tmp / "work"  # not the checkout, whose folders are importable by bare names
            work.mkdir()
            load = os.getloadavg()[0]
            print(f"{args.runs} runs of each, interleaved; load average {load:.1f} at the start")
            timings = measure(rows, args.runs, env, work)
        finally:
            server.stop()
        report(timings, baselines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench cli", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--wheel", action="store_true", help="also measure a wheel install")
    parser.add_argument(
        "--other",
        action="append",
        default=[],
        metavar="LABEL=PYTHON",
        help="also measure the wsk beside another interpreter",
    )
    run(parser.parse_args(argv))
