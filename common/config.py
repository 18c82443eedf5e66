"""Settings from the environment (`PYWHISK_*`) with command-line flags of the same names.

The standalone preset is the default: SQLite in the per-user data directory, in-process
queues, local process containers, one static invoker.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pywhisk.common.entities.limits import LimitRanges


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("pywhisk"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PYWHISK_", frozen=True)

    # Backends (docs/architecture.md: one code path, two presets).
    store_url: str = ""  # default: sqlite:///<data_dir>/pywhisk.db
    queue_url: str = "memory://"
    containers_url: str = "process://"
    discovery_url: str = "static://"

    data_dir: Path = Field(default_factory=default_data_dir)
    # Marks this installation's Docker containers (common/installation.py); default: an id
    # made once and kept in the data directory.
    installation_id: str = ""
    host: str = "127.0.0.1"
    port: int = 3233
    # What actions see as __OW_API_HOST; default: http://<host>:<port>.
    api_host: str = ""

    controller_id: int = 0
    invoker_id: int = 0
    # How many controllers share the invokers: each holds 1/N of an invoker's user memory
    # as its slots (OW clusterSize).
    controller_count: int = 1

    # Per-namespace throttles (OW standalone defaults, §3.2); namespaces may override.
    invocations_per_minute: int = 60
    concurrent_invocations: int = 30
    fires_per_minute: int = 60
    sequence_max_length: int = 50

    # Action limit ranges (§3.1).
    min_action_timeout: int = 100
    max_action_timeout: int = 300_000
    min_action_memory: int = 128
    max_action_memory: int = 512
    min_action_logs: int = 0
    max_action_logs: int = 10

    payload_max: int = 1024 * 1024  # invoke/fire/web request bodies and results
    # A request's line and headers: at most this many bytes (else 431), received within
    # this many seconds of the connection or of the request's first byte (else 408).
    # 64 KB is twice what nginx's default header buffers (4 x 8 KB) let through.
    header_max: int = 64 * 1024
    header_timeout: float = 10.0
    exec_max: int = 48 * 1024 * 1024
    # Bytes a zipped action may unpack to: refused at create/update when its zip declares
    # more, and process containers stop unpacking there (Docker runtime images stop at
    # their built-in 256 MB). 256 MB: a 48 MB zip of code compresses 3-5 times.
    zip_unpacked_max: int = 256 * 1024 * 1024
    blocking_wait: float = 60.0  # seconds a blocking invoke waits before answering 202
    # Seconds a stopping controller lets running sequences go on before ending them (their
    # records then say so).
    drain_timeout: float = 10.0

    # Feeds (alarms, database changes): seconds between two looks at the feed documents
    # (0 runs no feed service in this process; a feed changed through this controller is
    # looked at at once), and how long one `_changes` long poll waits.
    feed_tick: float = 10.0
    feed_longpoll: float = 25.0
    # Hosts a database-changes feed may connect to beyond public ones (names, addresses,
    # networks, comma-separated; `*`: any), e.g. a CouchDB on this machine: 127.0.0.1.
    feed_allowed_hosts: str = ""

    # Metrics (/metrics): a bearer token that may read them besides whisk.system's key; the
    # port an invoker serves its own on (0: none); the price of a GB-second for usage's cost.
    metrics_token: str = ""
    metrics_port: int = 0
    price_per_gb_second: float = 0.0
    # Platform logs: `text` or `json` (one JSON object a line, with transaction and
    # activation ids).
    log_format: str = "text"
    log_level: str = "info"  # `debug` adds a line per activation

    # Invoker container pool.
    user_memory: int = 2048  # MB of concurrently running containers per invoker
    idle_timeout: float = 600.0  # seconds an idle warm container is kept
    # Seconds idle before a warm container is paused (docker pause / SIGSTOP) until its next
    # activation resumes it (OW pause-grace); 0 never pauses.
    pause_grace: float = 10.0
    # Start processes ahead of first use: stem cells (runtimes.json stemCells) and, in
    # process mode, spare sandboxes (booted or not; the containers URL's counts still count).
    prewarm: bool = True
    # Seconds after a stem cell is taken that its replacement is started: by then the
    # activation that took it has its answer, and the two do not compete for the CPU
    # (invoker/service.py). 0: at once.
    stem_refill_delay: float = 0.1
    # Whether sandboxed process containers' actions may use the network (outbound calls,
    # __OW_API_HOST); off: a network namespace of their own with nothing in it.
    action_network: bool = True
    # Standalone: journal accepted activations (README "Durability"). Off only to measure what
    # the journal costs (`python -m bench.journal`): a crash then loses accepted activations.
    journal: bool = True

    @property
    def effective_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.data_dir / 'pywhisk.db'}"

    @property
    def effective_api_host(self) -> str:
        return self.api_host or f"http://{self.host}:{self.port}"

    @property
    def limit_ranges(self) -> LimitRanges:
        return LimitRanges(
            min_timeout=self.min_action_timeout,
            max_timeout=self.max_action_timeout,
            min_memory=self.min_action_memory,
            max_memory=self.max_action_memory,
            min_logs=self.min_action_logs,
            max_logs=self.max_action_logs,
        )
