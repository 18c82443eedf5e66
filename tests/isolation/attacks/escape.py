# Double fork and setsid: a process that is neither our child nor in our process group or
# session, left running with a marker in its command line.
import os
import sys


def main(args):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execv(
                sys.executable,
                [sys.executable, "-c", "import time; time.sleep(600)", args["marker"]],
            )
        os._exit(0)
    os.waitpid(pid, 0)
    return {"left": True}
