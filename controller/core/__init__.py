"""The controller's core: invoking actions, sequences, packages and bindings, triggers and
rules, feeds, placement on invokers (balancer, tracker, health), throttles, caches and the
built-in catalog. It knows nothing of HTTP frameworks: it raises `errors.ApiError` and
returns plain values; `controller/api/` answers requests with them."""
