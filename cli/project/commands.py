"""`wsk project deploy` and `wsk project undeploy`: wskdeploy's manifest deploys, over HTTP.

The Go `wsk` wraps wskdeploy for these (openwhisk-cli `commands/project.go`), with its
flags `--manifest`, `--deployment`, `--project` (the folder holding `manifest.yaml` or
`manifest.yml`) and `--preview`, and its messages: `Info: action [pkg/a] has been
successfully deployed.`, `Success: Deployment completed successfully.`, and on failure
`Error: Deployment did not complete successfully. …` before wsk's own `error:` line.
The manifest is checked whole before the first request. The server's `/` lists the
runtimes it runs, which is what `runtime:` is checked against.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pywhisk.cli.config import url_base
from pywhisk.cli.errors import EXIT_GENERAL, WskError
from pywhisk.cli.help import WskCommand, WskGroup
from pywhisk.cli.session import Session, current, global_options

from .apply import StepFailed, deploy, undeploy
from .manifest import Manifest, ManifestError, Target, parse
from .plan import Step, fetch, fetch_api, make_plan
from .preview import ABSENT, DELETE, print_preview

DEPLOY_FAILED = (
    "Error: Deployment did not complete successfully. "
    "Run `wsk project undeploy` to remove partially deployed assets."
)
UNDEPLOY_FAILED = "Error: Undeployment did not complete successfully."


@click.group("project", cls=WskGroup, help="The OpenWhisk Project Management Tool")
@global_options()
def project_group() -> None:
    pass


def _options(func: Any) -> Any:
    for option in (
        click.option("--preview", is_flag=True, help="show deployment/undeployment plan"),
        click.option("--project", "project", default=".", help="path to serverless project"),
        click.option("--deployment", "deployment", default="", help="path to deployment file"),
        click.option("--manifest", "manifest", default="", help="path to manifest file"),
    ):
        func = option(func)
    return func


def _manifest_path(manifest: str, project: str) -> Path:
    if manifest:
        return Path(manifest)
    for name in ("manifest.yaml", "manifest.yml"):
        if (Path(project) / name).is_file():
            return Path(project) / name
    raise WskError(f"Manifest file not found at path [{Path(project).resolve()}].", EXIT_GENERAL)


def _target(session: Session) -> tuple[Target, dict[str, Any]]:
    """The real namespace name, the API base and the key; the server's runtimes."""
    client = session.client
    namespace = session.namespace
    if namespace in ("", "_"):
        names = client.request("GET", f"{client.version_url}/namespaces").body
        namespace = str(names[0]) if isinstance(names, list) and names else "_"
    info = client.request("GET", url_base(session.props.apihost, "") + "/", auth=False).body
    runtimes = info.get("runtimes") if isinstance(info, dict) else None
    if not isinstance(runtimes, dict):
        raise WskError("The API host did not list its runtimes at '/'.", EXIT_GENERAL)
    return Target(namespace, client.base_url, session.props.auth), runtimes


def _load(manifest: str, deployment: str, project: str) -> tuple[Session, Manifest]:
    session = current()
    path = _manifest_path(manifest, project)
    target, runtimes = _target(session)
    try:
        plan = parse(path, target, runtimes, deployment=Path(deployment) if deployment else None)
    except ManifestError as err:
        raise WskError(str(err), EXIT_GENERAL) from None
    for warning in plan.warnings:
        click.echo(f"Warning: {warning}")
    return session, plan


@project_group.command(
    "deploy",
    cls=WskCommand,
    help="A tool set to help deploy your openwhisk packages using a manifest file.",
)
@_options
@global_options()
def project_deploy(manifest: str, deployment: str, project: str, preview: bool) -> None:
    session, plan = _load(manifest, deployment, project)
    steps = make_plan(session.client, plan)
    if preview:
        print_preview(steps, click.echo)
        return
    try:
        changed, unchanged = deploy(session, steps, click.echo)
    except StepFailed as err:
        click.echo(DEPLOY_FAILED, err=True)
        raise WskError(str(err), err.cause.exit_code) from None
    if not changed:
        click.echo(f"Info: all {unchanged} entities are unchanged; nothing was deployed.")
    click.echo("Success: Deployment completed successfully.")


@project_group.command("undeploy", cls=WskCommand, help="Undeploy OpenWhisk assets from server")
@_options
@global_options()
def project_undeploy(manifest: str, deployment: str, project: str, preview: bool) -> None:
    session, plan = _load(manifest, deployment, project)
    if preview:
        print_preview([_undeploy_step(session, e) for e in reversed(plan.entities)], click.echo)
        return
    try:
        undeploy(session, plan, click.echo)
    except StepFailed as err:
        click.echo(UNDEPLOY_FAILED, err=True)
        raise WskError(str(err), err.cause.exit_code) from None
    click.echo("Success: Undeployment completed successfully.")


def _undeploy_step(session: Session, entity: Any) -> Step:
    if entity.kind == "api":
        doc = entity.body["apidoc"]
        swagger = fetch_api(session.client, doc["gatewayBasePath"]) or {}
        paths = swagger.get("paths") or {}
        exists = doc["gatewayMethod"].lower() in (paths.get(doc["gatewayPath"]) or {})
    else:
        exists = fetch(session.client, entity) is not None
    return Step(entity, DELETE if exists else ABSENT)
