"""The controller's HTTP face: the FastAPI application, its routes, authentication,
middleware, request limits and OpenWhisk-shaped answers. It turns requests into calls of the
core (`controller/core/`) and the core's results and refusals into responses."""
