# Allocates (and touches) far more than the action's memory limit.
def main(args):
    block = b"x" * (int(args.get("mb", 700)) << 20)
    return {"allocated": len(block)}
