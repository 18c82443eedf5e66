# The victim: keeps the secret parameter it was invoked with in memory and tells the test
# where it runs. VICTIM_CODE_MARKER
import os
import secrets

INSTANCE = secrets.token_hex(8)
SEEN: list[str] = []


def main(args):
    if args.get("secret"):
        SEEN.append(args["secret"])
    return {
        "instance": INSTANCE,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "cwd": os.getcwd(),
        "secret": SEEN[-1] if SEEN else None,
    }
