"""/whisk.system/utils/smash: nests all other arguments under the name `$fieldName` gives."""


def main(args):
    parent = args.get("$fieldName")
    if not isinstance(parent, str):
        return {"error": "Expected an argument '$fieldName' of type 'string'."}
    return {parent: {k: v for k, v in args.items() if k != "$fieldName"}}
