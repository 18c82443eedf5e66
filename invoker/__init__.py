"""The invoker: runs activations in containers (docs/openwhisk-compatibility.md §4, §8.4).

service.py     Invoker: consumes `invoker{N}`, answers `completed{N}`, records activations
actions.py     actions fetched by doc id and cached by revision (no store read when warm)
pool.py        scheduling as pure functions + ContainerPool applying them (FIFO buffer,
               LRU eviction, pausing and idle expiry, stem cells)
proxy.py       one container's lifecycle as a state machine (pause/resume included)
client.py      /init and /run over one kept-alive connection per container (http1.py)
outcomes.py    container replies → activation responses, OpenWhisk's wording
records.py     /init and /run bodies, the activation record
containers/    the container family: base.py (ContainerFactory, Container), logs.py
               (output cut at the sentinels, shared), process.py (process://), docker.py
               (docker://, the `docker` extra)
"""
