# Writes a file into /tmp, which must be the container's own.
def main(args):
    try:
        with open(args["path"], "w") as f:
            f.write("written by an action")
        return {"wrote": True}
    except OSError as e:
        return {"wrote": False, "error": e.strerror}
