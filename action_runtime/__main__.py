"""`python3 -m action_runtime …`, or `python3 -E -s /path/to/action_runtime …`.

The second form needs no PYTHONPATH (which -E would ignore anyway): Python runs this file as a
script, and the lines below put the directory holding the package on sys.path first.
"""

import os
import sys

if __package__:  # installed: pywhisk.action_runtime
    from .cli import main
else:  # a copy run as a script, as in every container
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from action_runtime.cli import main

if __name__ == "__main__":
    sys.exit(main())
