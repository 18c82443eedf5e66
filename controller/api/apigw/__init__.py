"""OpenWhisk's API Gateway, served by the controller itself.

OpenWhisk keeps HTTP APIs in a separate gateway and manages them through three web actions
of `whisk.system/apimgmt` (createApi, getApi, deleteApi) that call that gateway's REST API.
pywhisk has no separate gateway: the controller serves the APIs (`/api/<tenant>/<base
path>/<path>`) by running the routes' web actions through the web-action code, and answers
the management URLs itself, so clients that speak OpenWhisk's (`wsk api`, the `openwhisk`
npm client, serverless-openwhisk) work unchanged (docs/openwhisk-compatibility.md §5.1).

- `model`: the API documents (swagger 2.0 with `x-openwhisk` operations) and how one
  route is merged in or removed, in OpenWhisk's words; pure.
- `swagger`: a stored swagger compiled into routes (which action, which response type,
  which secure key, CORS); pure.
- `routing`: matching a request's method and path against those routes; pure.
- `tenants`: where the documents live in the entity store.
"""
