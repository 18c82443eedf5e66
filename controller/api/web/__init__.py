"""Web actions (docs/openwhisk-compatibility.md §5): the pure parts, kept apart from the route that serves them.

`media` says which content types are text and which are bytes, `request` turns an HTTP
request into the action's arguments, `response` turns the action's result into an HTTP
response for the URL's extension.
"""
