"""/whisk.system/utils/namespace: the namespace of whoever invoked it."""

import os


def main(args):
    return {"namespace": os.environ.get("__OW_NAMESPACE")}
