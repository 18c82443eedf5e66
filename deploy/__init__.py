"""How pywhisk runs: the `pywhisk` command for every role (standalone, controller, invoker,
admin, images), the one-process standalone assembly, and the runtime images with their
Dockerfile. The composition root: it may import the controller, the invoker and common; none of
them imports it."""
