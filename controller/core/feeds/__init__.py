"""Feed providers run by every controller: alarms (cron, interval, once) and database changes.

OpenWhisk runs each provider as a separate service with a database of its own; here the
controller is the provider. The feed actions of `/whisk.system/alarms` and
`/whisk.system/couchdb` (real actions, run in containers) forward each lifecycle event to
`/api/v1/namespaces/{ns}/feeds/{provider}/{trigger}` with the trigger owner's key; the
controller validates, keeps the feed's state in the entity store (`registry`), and a
service in every controller (`alarms`, `changes`) fires the triggers, claiming each due
time or change in the store first so that N controllers fire it once.
"""
