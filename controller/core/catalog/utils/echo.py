"""/whisk.system/utils/echo: returns its input."""


def main(args):
    return args
