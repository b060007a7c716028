"""`python -m pipeline deploy`: package the code, upload it, create or update the AWS stack.

What goes where (s3://<artifact bucket>/<prefix>/<code version>/..., the keys
infra/wistia-insights.yaml points the Glue jobs at; the version is a hash of the code, see
`code_version`):

- `glue_jobs/<job>.py` for the four jobs: the entry scripts, byte for byte (Command.ScriptLocation).
- `package/wistia_insights.zip`: the `pipeline` and `glue_jobs` packages (`--extra-py-files`).
  On Glue the script sits alone in S3; `from glue_jobs._args import ...` and `import pipeline...`
  resolve from this zip, which Glue puts on the PYTHONPATH.
- Third-party runtime dependencies that Glue 5.1 does not bring go to the jobs'
  `--additional-python-modules` (the `AdditionalPythonModules` stack parameter), pinned to the
  versions of pyproject.toml; boto3, pandas, numpy, pyarrow, requests come with Glue.

The artifact bucket is not part of the stack (the stack's jobs need the scripts, and the stack
cannot hold the bucket its own code is uploaded to before it exists): create it once, then
give it with `--artifact-bucket` or `WVI_ARTIFACT_BUCKET`. The prefix defaults to the one the
stack already uses, for a new stack to the stack name, so several stacks can share one bucket.

Stack updates run through the stack's own `CloudFormationRole` (its `CloudFormationRoleArn`
output) unless `--role-arn` names another; the first creation uses the caller's credentials.
boto3 honours `AWS_ENDPOINT_URL`, which is how the tests point all of this at moto.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = REPO_ROOT / "infra" / "wistia-insights.yaml"
PYPROJECT_PATH = REPO_ROOT / "pyproject.toml"

GLUE_JOBS = ("ingest", "bronze_to_silver", "silver_to_gold", "quality_checks")
PACKAGE_FILE = "wistia_insights.zip"
PACKAGE_SOURCES = ("pipeline", "glue_jobs")  # what the Glue scripts import
PACKAGE_SUFFIXES = (".py", ".yml")  # code and package data (pyproject's package-data)
# Imported by the jobs but not preinstalled on Glue 5.1 (aws-glue-libs base requirements).
GLUE_EXTRA_DEPENDENCIES = ("pydantic", "pydantic-settings", "tenacity", "pyyaml")
# Stack parameters deploy sets itself: they must match what it uploads.
MANAGED_PARAMETERS = ("ArtifactBucket", "ArtifactPrefix", "CodeVersion", "AdditionalPythonModules")
# CloudFormation names buckets and roles `<stack>-<LogicalId>-<suffix>` (truncated when long,
# and bucket names lower-cased); the template's policies rely on that prefix.
STACK_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
CAPABILITIES = ["CAPABILITY_IAM"]
ROLE_OUTPUT = "CloudFormationRoleArn"
NO_UPDATES = "No updates are to be performed"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same code gives the same zip

Emit = Callable[[str], None]


class DeployError(RuntimeError):
    """A deployment could not be planned or did not succeed (one line, no secrets)."""


# ---------------------------------------------------------------------- artifacts
@dataclass(frozen=True)
class Artifact:
    """One object to upload."""

    key: str
    body: bytes = field(repr=False)
    content_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


def artifact_keys(prefix: str, version: str) -> dict[str, str]:
    """Artifact name → S3 key: each job's script, and `package`, under `<prefix>/<version>/`."""
    base = f"{prefix.strip('/')}/{version}"
    keys = {job: f"{base}/glue_jobs/{job}.py" for job in GLUE_JOBS}
    keys["package"] = f"{base}/package/{PACKAGE_FILE}"
    return keys


def code_version(bodies: Mapping[str, bytes]) -> str:
    """A name for this code: a hash of every artifact (the same code, the same version).

    The artifacts of each version get keys of their own, so an upload never replaces what the
    jobs run now; the stack update then switches the jobs to the new version, and an update
    that fails and rolls back leaves them on the old one, whose files are still there.
    """
    digest = hashlib.sha256()
    for name in sorted(bodies):
        digest.update(name.encode() + b"\0" + hashlib.sha256(bodies[name]).digest())
    return digest.hexdigest()[:16]


def package_files(root: Path = REPO_ROOT) -> list[Path]:
    """The files of the package zip, sorted (no caches, no compiled files)."""
    files = []
    for source in PACKAGE_SOURCES:
        for path in (root / source).rglob("*"):
            if (
                path.is_file()
                and path.suffix in PACKAGE_SUFFIXES
                and "__pycache__" not in path.parts
            ):
                files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def build_package(root: Path = REPO_ROOT) -> bytes:
    """A reproducible zip of the packages the Glue scripts import."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in package_files(root):
            info = zipfile.ZipInfo(path.relative_to(root).as_posix(), ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def build_artifacts(prefix: str, root: Path = REPO_ROOT) -> tuple[str, list[Artifact]]:
    """(code version, the package and the four entry scripts keyed as the template expects)."""
    bodies = {job: (root / "glue_jobs" / f"{job}.py").read_bytes() for job in GLUE_JOBS}
    bodies["package"] = build_package(root)
    version = code_version(bodies)
    keys = artifact_keys(prefix, version)
    artifacts = [Artifact(keys[job], bodies[job], "text/x-python") for job in GLUE_JOBS]
    artifacts.append(Artifact(keys["package"], bodies["package"], "application/zip"))
    return version, artifacts


def glue_python_modules(pyproject: Path = PYPROJECT_PATH) -> str:
    """`--additional-python-modules`: the extra dependencies pinned as in pyproject.toml."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    pins: dict[str, str] = {}
    for spec in dependencies:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;,]+)\s*", spec)
        if match:
            pins[_normalize(match.group(1))] = match.group(2)
    missing = [name for name in GLUE_EXTRA_DEPENDENCIES if _normalize(name) not in pins]
    if missing:
        raise DeployError(f"pyproject.toml pins none of {', '.join(missing)} (name==version)")
    return ",".join(f"{name}=={pins[_normalize(name)]}" for name in GLUE_EXTRA_DEPENDENCIES)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# ---------------------------------------------------------------------- template
class _TemplateLoader(yaml.SafeLoader):
    """YAML loader that reads CloudFormation short forms (`!Ref X` → {"Ref": "X"})."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a dict (intrinsic functions in their long form)."""
    # A SafeLoader subclass: no arbitrary Python objects, only the CloudFormation tags.
    return yaml.load(path.read_text(), Loader=_TemplateLoader)


# ---------------------------------------------------------------------- plan
@dataclass(frozen=True)
class DeployRequest:
    """What to deploy where (CLI options and environment resolved)."""

    stack_name: str
    artifact_bucket: str
    artifact_prefix: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None
    template_path: Path = TEMPLATE_PATH

    def prefix(self, stack: Mapping[str, Any] | None = None) -> str:
        """`--artifact-prefix` if given; else the prefix the stack already uses (its deploy
        role may upload only there); else the stack name."""
        previous = _stack_parameters(stack).get("ArtifactPrefix") if stack else None
        return (self.artifact_prefix or previous or self.stack_name).strip("/")


@dataclass
class Plan:
    """The changes a deployment makes; `describe()` is what --dry-run prints."""

    request: DeployRequest
    action: str  # create | update
    artifacts: list[Artifact]
    parameters: list[dict[str, Any]]
    template_body: str
    role_arn: str | None
    stack_status: str | None = None
    kept: frozenset[str] = frozenset()  # parameters an update keeps at their previous value

    def describe(self) -> list[str]:
        bucket = self.request.artifact_bucket
        lines = [f"stack {self.request.stack_name}: {self.action}"]
        if self.stack_status:
            lines[0] += f" (now {self.stack_status})"
        for artifact in self.artifacts:
            lines.append(
                f"upload s3://{bucket}/{artifact.key} "
                f"({len(artifact.body):,} bytes, sha256 {artifact.sha256[:12]})"
            )
        for parameter in self.parameters:
            key = parameter["ParameterKey"]
            value = parameter.get("ParameterValue", "(masked)")
            lines.append(f"parameter {key} = {value}" + (" (previous)" if key in self.kept else ""))
        lines.append(f"capabilities {', '.join(CAPABILITIES)}")
        lines.append(f"role {self.role_arn or '(the caller credentials)'}")
        return lines


def parse_parameters(items: Iterable[str]) -> dict[str, str]:
    """`KEY=VALUE` options as a dict (the last one of a key wins)."""
    parameters: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DeployError(f"--parameter needs KEY=VALUE, not {item!r}")
        parameters[key.strip()] = value
    return parameters


def make_plan(request: DeployRequest, cfn: Any, s3: Any) -> Plan:
    """Decide create vs update and the parameters; reads only (describe_stacks, head_bucket)."""
    if not STACK_NAME.fullmatch(request.stack_name):
        raise DeployError(
            f"stack name {request.stack_name!r}: use 1-24 lower-case letters, digits and '-', "
            "starting with a letter (the template scopes its policies to '<stack>-*' names)"
        )
    template = load_template(request.template_path)
    declared = template.get("Parameters", {})
    _check_parameters(request.parameters, declared)
    _check_bucket(s3, request.artifact_bucket)
    stack = describe_stack(cfn, request.stack_name)
    status = stack["StackStatus"] if stack else None
    _check_status(request.stack_name, status)
    prefix = request.prefix(stack)
    version, artifacts = build_artifacts(prefix)
    values = {
        "ArtifactBucket": request.artifact_bucket,
        "ArtifactPrefix": prefix,
        "CodeVersion": version,
        "AdditionalPythonModules": glue_python_modules(),
        **request.parameters,
    }
    if stack is None:
        parameters = _create_parameters(values, declared)
        role = request.role_arn
    else:
        parameters = _update_parameters(values, declared, stack)
        role = request.role_arn or _output(stack, ROLE_OUTPUT)
    return Plan(
        request=request,
        action="create" if stack is None else "update",
        artifacts=artifacts,
        parameters=parameters,
        template_body=request.template_path.read_text(),
        role_arn=role,
        stack_status=status,
        kept=frozenset(p["ParameterKey"] for p in parameters) - set(values),
    )


def _check_parameters(given: Mapping[str, str], declared: Mapping[str, Any]) -> None:
    for key in given:
        if key in MANAGED_PARAMETERS:
            raise DeployError(
                f"{key} is set by deploy (use --artifact-bucket / --artifact-prefix; the "
                "code version is a hash of the code, the Python modules come from pyproject.toml)"
            )
        if key not in declared:
            raise DeployError(f"unknown stack parameter {key} (known: {', '.join(declared)})")


def _check_bucket(s3: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(
                f"artifact bucket {bucket} does not exist; create it first "
                f"(aws s3 mb s3://{bucket}) or pass another with --artifact-bucket"
            ) from exc
        raise DeployError(f"artifact bucket {bucket}: {_client_message(exc)}") from exc


def _check_status(stack_name: str, status: str | None) -> None:
    """Refuse stacks that cannot take an update now (COMPLETE states, incl.
    UPDATE_ROLLBACK_COMPLETE, can)."""
    if status is None:
        return
    if status == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {stack_name} is ROLLBACK_COMPLETE (its creation failed); delete it "
            f"(aws cloudformation delete-stack --stack-name {stack_name}) and deploy again"
        )
    if status.endswith("_IN_PROGRESS"):
        raise DeployError(f"stack {stack_name} is busy ({status}); deploy when it has finished")
    if status.endswith("_FAILED"):
        raise DeployError(f"stack {stack_name} is {status}; repair it in the console first")


def _create_parameters(values: Mapping[str, str], declared: Mapping[str, Any]) -> list[dict]:
    missing = [k for k, spec in declared.items() if "Default" not in spec and k not in values]
    if missing:
        raise DeployError("a new stack needs " + ", ".join(f"--parameter {k}=..." for k in missing))
    return [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items()]


def _update_parameters(
    values: Mapping[str, str], declared: Mapping[str, Any], stack: Mapping[str, Any]
) -> list[dict]:
    """Given values, else the stack's previous ones, as `aws cloudformation deploy` does: an
    update never resets a parameter to its default behind the operator's back.

    Previous values go explicitly (UsePreviousValue only for NoEcho ones, whose value reads
    back masked): moto fails on UsePreviousValue for a parameter that took its default."""
    previous = _stack_parameters(stack)
    parameters = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in values.items()]
    for key, spec in declared.items():
        if key in values or key not in previous:
            continue
        if spec.get("NoEcho") or previous[key] is None:
            parameters.append({"ParameterKey": key, "UsePreviousValue": True})
        else:
            parameters.append({"ParameterKey": key, "ParameterValue": previous[key]})
    known = set(values) | set(previous)
    missing = [k for k, spec in declared.items() if "Default" not in spec and k not in known]
    if missing:
        raise DeployError("the stack needs " + ", ".join(f"--parameter {k}=..." for k in missing))
    return parameters


def describe_stack(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack, or None when it does not exist."""
    from botocore.exceptions import ClientError

    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in _client_message(exc):
            return None
        raise
    return stacks[0] if stacks else None


def _stack_parameters(stack: Mapping[str, Any]) -> dict[str, str | None]:
    """The stack's parameter values by key, as described (a NoEcho one reads back masked)."""
    return {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}


def _output(stack: Mapping[str, Any], key: str) -> str | None:
    return next((o["OutputValue"] for o in stack.get("Outputs", []) if o["OutputKey"] == key), None)


# ---------------------------------------------------------------------- apply
@dataclass
class DeployResult:
    """How a deployment ended."""

    stack_name: str
    action: str  # create | update | none
    status: str
    outputs: dict[str, str]


def apply(
    plan: Plan,
    cfn: Any,
    s3: Any,
    *,
    emit: Emit = lambda _: None,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3600.0,
) -> DeployResult:
    """Upload the artifacts, then create or update the stack and wait for it."""
    bucket = plan.request.artifact_bucket
    for artifact in plan.artifacts:
        s3.put_object(
            Bucket=bucket,
            Key=artifact.key,
            Body=artifact.body,
            ContentType=artifact.content_type,
            Metadata={"sha256": artifact.sha256},
        )
        emit(f"uploaded s3://{bucket}/{artifact.key}")
    seen = _event_ids(cfn, plan.request.stack_name) if plan.action == "update" else set()
    if not _start(plan, cfn):
        emit(f"stack {plan.request.stack_name} is already up to date")
        stack = describe_stack(cfn, plan.request.stack_name) or {}
        return DeployResult(
            plan.request.stack_name, "none", stack.get("StackStatus", ""), _outputs(stack)
        )
    stack = wait_for_stack(
        cfn,
        plan.request.stack_name,
        seen,
        emit=emit,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    return DeployResult(plan.request.stack_name, plan.action, stack["StackStatus"], _outputs(stack))


def _start(plan: Plan, cfn: Any) -> bool:
    """Call create_stack / update_stack; False when the update changes nothing."""
    from botocore.exceptions import ClientError

    request: dict[str, Any] = {
        "StackName": plan.request.stack_name,
        "TemplateBody": plan.template_body,
        "Parameters": plan.parameters,
        "Capabilities": CAPABILITIES,
        "Tags": [{"Key": "project", "Value": "wistia-video-insights"}],
    }
    if plan.role_arn:
        request["RoleARN"] = plan.role_arn
    if plan.action == "create":
        cfn.create_stack(**request)
        return True
    try:
        cfn.update_stack(**request)
    except ClientError as exc:
        if NO_UPDATES in _client_message(exc):
            return False
        raise
    return True


def wait_for_stack(
    cfn: Any,
    stack_name: str,
    seen: set[str],
    *,
    emit: Emit,
    poll_seconds: float,
    timeout_seconds: float,
) -> dict[str, Any]:
    """Poll until the stack leaves *_IN_PROGRESS, emitting each new stack event once."""
    deadline = time.monotonic() + timeout_seconds
    before = set(seen)  # `seen` grows as events are reported; the failure search needs this
    while True:
        for event in _new_events(cfn, stack_name, seen):
            emit(_event_line(event))
        stack = describe_stack(cfn, stack_name)
        if stack is None:
            raise DeployError(f"stack {stack_name} disappeared while deploying")
        status = stack["StackStatus"]
        if not status.endswith("_IN_PROGRESS"):
            break
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {status} after {timeout_seconds:.0f} s")
        time.sleep(poll_seconds)
    if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        return stack
    raise DeployError(
        f"stack {stack_name} ended {status}: {_first_failure(cfn, stack_name, before)}"
    )


def _event_ids(cfn: Any, stack_name: str) -> set[str]:
    events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    return {e["EventId"] for e in events}


def _new_events(cfn: Any, stack_name: str, seen: set[str]) -> list[dict[str, Any]]:
    """Events not reported yet, oldest first (the API lists newest first, paged)."""
    fresh: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=stack_name):
        events = page["StackEvents"]
        new = [e for e in events if e["EventId"] not in seen]
        fresh.extend(new)
        if len(new) < len(events):  # reached what was already reported
            break
    seen.update(e["EventId"] for e in fresh)
    return list(reversed(fresh))


def _event_line(event: Mapping[str, Any]) -> str:
    reason = event.get("ResourceStatusReason")
    line = f"{event['LogicalResourceId']} {event['ResourceStatus']}"
    return f"{line}: {reason}" if reason else line


def _first_failure(cfn: Any, stack_name: str, before: set[str]) -> str:
    """The first failed resource of this operation and why (the root cause, not the rollback)."""
    events = cfn.describe_stack_events(StackName=stack_name)["StackEvents"]
    failed = [
        e
        for e in reversed(events)
        if e["EventId"] not in before and e["ResourceStatus"].endswith("_FAILED")
    ]
    return _event_line(failed[0]) if failed else "see the stack events"


def _outputs(stack: Mapping[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _client_message(exc: Any) -> str:
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Message") or error.get("Code") or exc)


# ---------------------------------------------------------------------- entry point
def clients(region: str | None) -> tuple[Any, Any]:
    """CloudFormation and S3 clients (AWS_ENDPOINT_URL, when set, applies to both)."""
    import boto3

    session = boto3.session.Session(region_name=region or None)
    return session.client("cloudformation"), session.client("s3")


def app_environment(outputs: Mapping[str, str], region: str | None) -> dict[str, str]:
    """The environment that points the dashboard and the CLI at the deployed stack."""
    names = {
        "WVI_DATA_ROOT": "DataRoot",
        "WVI_GLUE_WORKFLOW": "WorkflowName",
        # The workgroup enforces its own result location; a query that names one as well
        # would lose Athena's result reuse, so WVI_ATHENA_OUTPUT stays unset.
        "WVI_ATHENA_WORKGROUP": "AthenaWorkGroupName",
        "WVI_ATHENA_DATABASE": "GoldDatabaseName",
        "WVI_ATHENA_SILVER_DATABASE": "SilverDatabaseName",
    }
    env = {var: outputs[key] for var, key in names.items() if key in outputs}
    env.update(WVI_ORCHESTRATOR="glue", WVI_WAREHOUSE="athena")
    if region:
        env["WVI_AWS_REGION"] = region
    return env


__all__ = [
    "Artifact",
    "DeployError",
    "DeployRequest",
    "DeployResult",
    "Plan",
    "app_environment",
    "apply",
    "artifact_keys",
    "build_artifacts",
    "build_package",
    "clients",
    "code_version",
    "glue_python_modules",
    "load_template",
    "make_plan",
    "parse_parameters",
    "wait_for_stack",
]
