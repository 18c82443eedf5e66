# Sends SIGKILL to the given processes.
import os
import signal


def main(args):
    report: dict[str, str | None] = {}
    for pid in args.get("pids", []):
        try:
            os.kill(pid, signal.SIGKILL)
            report[str(pid)] = "killed"
        except OSError as e:
            report[str(pid)] = e.strerror
    return {"report": report}
