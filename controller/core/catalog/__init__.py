"""Built-in public packages of the `whisk.system` namespace (OW's openwhisk-catalog).

Each package is described in its own folder: metadata in its `__init__.py`, one file of
Python source per action. `install` puts them into the store at every start.
"""
