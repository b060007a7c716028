"""`python -m pipeline deploy` against moto in server mode (the same HTTP path boto3 takes
to AWS, selected only by AWS_ENDPOINT_URL).

What moto can and cannot check here: moto's CloudFormation provisions S3 buckets (recording
only their encryption and tags, not versioning, lifecycle or public-access blocks) and IAM
roles and managed policies; it skips AWS::Glue::*, AWS::Athena::WorkGroup,
AWS::SecretsManager::Secret, AWS::S3::BucketPolicy and AWS::IAM::OIDCProvider with a warning
and leaves the outputs that name them out. So these tests assert the uploads, the stack's
create and update, its parameters and template, the buckets' encryption and the roles; the
Glue jobs, triggers and workgroup are checked on the template itself
(tests/infra/test_template.py) and by cfn-lint. What moto cannot answer ("No updates are to be
performed", a rolled-back update) goes through botocore's Stubber on a real client.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import boto3
import pytest
import requests

from pipeline import cli
from pipeline import deploy as stack

REPO = Path(__file__).resolve().parents[2]
BUCKET = "wvi-artifacts-test"
STACK = "wvi-test"
REPOSITORY = "acme/wistia-insights"


@pytest.fixture
def aws(moto_url, monkeypatch):
    """Fake credentials, moto's endpoint, a clean moto state and an artifact bucket."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "WVI_ARTIFACT_BUCKET", "WVI_STACK_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    # moto warns about each resource type its CloudFormation cannot provision (see above).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield {"s3": s3, "cfn": boto3.client("cloudformation"), "iam": boto3.client("iam")}


def deploy(*extra: str) -> int:
    args = ["deploy", "--stack-name", STACK, "--artifact-bucket", BUCKET]
    return cli.main([*args, "--poll-seconds", "0.01", "--quiet", *extra])


def first_deploy() -> int:
    return deploy("--parameter", f"GitHubRepository={REPOSITORY}")


def the_stack(cfn) -> dict:
    return cfn.describe_stacks(StackName=STACK)["Stacks"][0]


def code_version() -> str:
    """The version deploy gives the repository's code."""
    return stack.build_artifacts(STACK)[0]


def parameters(cfn) -> dict[str, str]:
    return {p["ParameterKey"]: p["ParameterValue"] for p in the_stack(cfn)["Parameters"]}


def objects(s3) -> dict[str, str]:
    listing = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {o["Key"]: o["ETag"] for o in listing}


def test_deploy_uploads_each_artifact_to_its_key_and_creates_the_stack(aws):
    s3, cfn = aws["s3"], aws["cfn"]
    assert first_deploy() == 0

    version = parameters(cfn)["CodeVersion"]
    assert version == code_version()
    keys = stack.artifact_keys(STACK, version)  # the prefix defaults to the stack name
    assert set(objects(s3)) == set(keys.values())
    for job in stack.GLUE_JOBS:
        key = f"{STACK}/{version}/glue_jobs/{job}.py"
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert body == (REPO / "glue_jobs" / f"{job}.py").read_bytes()
    package = s3.get_object(Bucket=BUCKET, Key=f"{STACK}/{version}/package/wistia_insights.zip")
    names = zipfile.ZipFile(io.BytesIO(package["Body"].read())).namelist()
    assert {"glue_jobs/_args.py", "pipeline/jobs.py", "pipeline/ingest.py"} <= set(names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]

    described = the_stack(cfn)
    assert described["StackStatus"] == "CREATE_COMPLETE"
    assert {
        "ArtifactBucket": BUCKET,
        "ArtifactPrefix": STACK,
        "GitHubRepository": REPOSITORY,
        "AdditionalPythonModules": stack.glue_python_modules(),
    }.items() <= parameters(cfn).items()
    body = cfn.get_template(StackName=STACK)["TemplateBody"]
    assert body == stack.TEMPLATE_PATH.read_text()


def test_created_buckets_are_encrypted_and_the_github_role_trusts_only_main(aws):
    s3, cfn, iam = aws["s3"], aws["cfn"], aws["iam"]
    assert first_deploy() == 0
    outputs = {o["OutputKey"]: o["OutputValue"] for o in the_stack(cfn)["Outputs"]}
    for key in ("DataBucketName", "AthenaResultsBucketName"):
        rules = s3.get_bucket_encryption(Bucket=outputs[key])["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    role_name = outputs["GitHubActionsRoleArn"].rsplit("/", 1)[1]
    trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:sub"] == (
        f"repo:{REPOSITORY}:ref:refs/heads/main"
    )
    assert condition["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"


def test_second_deploy_updates_keeping_previous_parameters(aws):
    cfn = aws["cfn"]
    assert first_deploy() == 0
    outputs = {o["OutputKey"]: o["OutputValue"] for o in the_stack(cfn)["Outputs"]}

    assert deploy("--parameter", "NumberOfWorkers=3") == 0
    updated = the_stack(cfn)
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    assert parameters(cfn)["NumberOfWorkers"] == "3"
    assert parameters(cfn)["GitHubRepository"] == REPOSITORY  # kept, not required again
    # updates go through the stack's own CloudFormation service role
    assert updated["RoleARN"] == outputs["CloudFormationRoleArn"]


def test_new_code_goes_to_new_keys_and_the_running_code_is_never_overwritten(aws, monkeypatch):
    """A deploy of changed code uploads it beside the old version and switches the stack's
    CodeVersion; the objects the jobs ran before keep their bytes (a rolled-back update leaves
    the jobs on them). The same code deployed again gets the same version."""
    s3, cfn = aws["s3"], aws["cfn"]
    assert first_deploy() == 0
    old_version, before = parameters(cfn)["CodeVersion"], objects(s3)

    real_package = stack.build_package
    monkeypatch.setattr(stack, "build_package", lambda root=REPO: real_package(root) + b"\n")
    assert deploy() == 0
    new_version = parameters(cfn)["CodeVersion"]
    assert new_version != old_version
    after = objects(s3)
    assert {k: after[k] for k in before} == before  # same keys, same ETags: untouched
    assert set(after) - set(before) == set(stack.artifact_keys(STACK, new_version).values())
    assert stack.build_artifacts(STACK)[0] == new_version  # the same code, the same version


def test_an_update_keeps_the_prefix_the_stack_was_created_with(aws):
    """The stack's deploy role may upload only under its ArtifactPrefix: an update without
    --artifact-prefix keeps that prefix instead of falling back to the stack name."""
    s3, cfn = aws["s3"], aws["cfn"]
    assert (
        deploy("--artifact-prefix", "team/wvi", "--parameter", f"GitHubRepository={REPOSITORY}")
        == 0
    )
    assert parameters(cfn)["ArtifactPrefix"] == "team/wvi"
    assert deploy("--parameter", "NumberOfWorkers=3") == 0
    assert parameters(cfn)["ArtifactPrefix"] == "team/wvi"
    assert all(key.startswith("team/wvi/") for key in objects(s3))


def test_an_update_that_changes_nothing_is_success_without_waiting():
    """CloudFormation answers an update without changes with a ValidationError "No updates
    are to be performed." (moto cannot produce it for this template: it compares its Number
    parameters as int with the strings sent), so the real botocore client gets it stubbed."""
    from botocore.stub import ANY, Stubber

    cfn = stubbed_cloudformation()
    existing = {
        "StackName": STACK,
        "StackId": f"arn:aws:cloudformation:us-east-1:123456789012:stack/{STACK}/1",
        "CreationTime": "2026-01-01T00:00:00Z",
        "StackStatus": "UPDATE_COMPLETE",
        "Parameters": [{"ParameterKey": "GitHubRepository", "ParameterValue": REPOSITORY}],
        "Outputs": [
            {
                "OutputKey": "CloudFormationRoleArn",
                "OutputValue": "arn:aws:iam::123456789012:role/wvi-test-cfn",
            }
        ],
    }
    s3 = FakeS3()
    with Stubber(cfn) as stub:
        stub.add_response("describe_stacks", {"Stacks": [existing]}, {"StackName": STACK})
        plan = stack.make_plan(stack.DeployRequest(STACK, BUCKET), cfn, s3)
        stub.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": STACK})
        stub.add_client_error(
            "update_stack",
            service_error_code="ValidationError",
            service_message="No updates are to be performed.",
            expected_params={
                "StackName": STACK,
                "TemplateBody": ANY,
                "Parameters": ANY,
                "Capabilities": ["CAPABILITY_IAM"],
                "Tags": ANY,
                "RoleARN": "arn:aws:iam::123456789012:role/wvi-test-cfn",
            },
        )
        stub.add_response("describe_stacks", {"Stacks": [existing]}, {"StackName": STACK})
        result = stack.apply(plan, cfn, s3, poll_seconds=0.01)
        stub.assert_no_pending_responses()
    assert (result.action, result.status) == ("none", "UPDATE_COMPLETE")
    assert sorted(s3.keys) == sorted(stack.artifact_keys(STACK, code_version()).values())


def test_a_failed_update_reports_the_resource_that_failed_not_the_rollback():
    from botocore.stub import Stubber

    cfn = stubbed_cloudformation()

    def event(event_id: str, logical_id: str, status: str, reason: str = "") -> dict:
        return {
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/wvi-test/1",
            "EventId": event_id,
            "StackName": STACK,
            "LogicalResourceId": logical_id,
            "ResourceStatus": status,
            "ResourceStatusReason": reason,
            "Timestamp": "2026-01-01T00:00:00Z",
        }

    # newest first, as the API lists them; "old" predates this update
    events = [
        event("e4", STACK, "UPDATE_ROLLBACK_COMPLETE"),
        event("e3", "AppRole", "UPDATE_FAILED", "Resource update cancelled"),
        event("e2", "IngestJob", "UPDATE_FAILED", "Invalid GlueVersion 9.9"),
        event("e1", STACK, "UPDATE_IN_PROGRESS"),
        event("old", "AppRole", "CREATE_FAILED", "an earlier failure"),
    ]
    stopped = {"StackName": STACK, "CreationTime": "2026-01-01T00:00:00Z"}
    stopped["StackStatus"] = "UPDATE_ROLLBACK_COMPLETE"
    lines: list[str] = []
    with Stubber(cfn) as stub:
        stub.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK})
        stub.add_response("describe_stacks", {"Stacks": [stopped]}, {"StackName": STACK})
        stub.add_response("describe_stack_events", {"StackEvents": events}, {"StackName": STACK})
        with pytest.raises(stack.DeployError) as failure:
            stack.wait_for_stack(
                cfn, STACK, {"old"}, emit=lines.append, poll_seconds=0.01, timeout_seconds=5
            )
    assert str(failure.value) == (
        f"stack {STACK} ended UPDATE_ROLLBACK_COMPLETE: "
        "IngestJob UPDATE_FAILED: Invalid GlueVersion 9.9"
    )
    assert lines[0] == f"{STACK} UPDATE_IN_PROGRESS" and len(lines) == 4  # oldest first, once


def stubbed_cloudformation():
    return boto3.client(
        "cloudformation",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class FakeS3:
    """Records uploads; the bucket exists."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def head_bucket(self, Bucket: str) -> dict:
        return {}

    def put_object(self, Bucket: str, Key: str, **_: object) -> dict:
        self.keys.append(Key)
        return {}


def test_dry_run_prints_the_plan_and_changes_nothing(aws, capsys):
    s3, cfn = aws["s3"], aws["cfn"]
    assert deploy("--dry-run", "--parameter", f"GitHubRepository={REPOSITORY}") == 0
    plan = capsys.readouterr().out
    assert f"stack {STACK}: create" in plan
    for key in stack.artifact_keys(STACK, code_version()).values():
        assert f"s3://{BUCKET}/{key}" in plan
    assert f"parameter GitHubRepository = {REPOSITORY}" in plan
    assert objects(s3) == {}
    assert cfn.list_stacks()["StackSummaries"] == []

    assert first_deploy() == 0
    before = (
        objects(s3),
        parameters(cfn),
        cfn.describe_stack_events(StackName=STACK)["StackEvents"],
    )
    capsys.readouterr()
    assert deploy("--dry-run", "--parameter", "NumberOfWorkers=7") == 0
    plan = capsys.readouterr().out
    assert f"stack {STACK}: update (now CREATE_COMPLETE)" in plan
    assert f"parameter GitHubRepository = {REPOSITORY} (previous)" in plan
    assert "parameter NumberOfWorkers = 7\n" in plan
    after = (
        objects(s3),
        parameters(cfn),
        cfn.describe_stack_events(StackName=STACK)["StackEvents"],
    )
    assert after == before  # same ETags, parameters and events: no upload, no stack call


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--artifact-bucket", "no-such-bucket"], "artifact bucket no-such-bucket does not exist"),
        ([], "a new stack needs --parameter GitHubRepository=..."),
        (["--parameter", "ArtifactPrefix=x"], "ArtifactPrefix is set by deploy"),
        (["--parameter", "CodeVersion=x"], "CodeVersion is set by deploy"),
        (["--parameter", "Nope=1"], "unknown stack parameter Nope"),
        (["--stack-name", "Wistia_Stack"], "stack name 'Wistia_Stack'"),
    ],
)
def test_configuration_errors_are_one_line_and_change_nothing(aws, capsys, args, message):
    assert deploy(*args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert objects(aws["s3"]) == {}
    assert aws["cfn"].list_stacks()["StackSummaries"] == []


def test_missing_artifact_bucket_setting_is_reported(aws, capsys):
    assert cli.main(["deploy", "--quiet"]) == 2
    assert "WVI_ARTIFACT_BUCKET" in capsys.readouterr().err


def test_template_points_the_jobs_at_exactly_the_uploaded_keys():
    """Each job's ScriptLocation is one of the uploaded entry scripts, and --extra-py-files the
    uploaded package; the Python modules default equals what deploy computes."""
    from cfnlint.decode import cfn_yaml

    template = cfn_yaml.load(str(stack.TEMPLATE_PATH))
    values = {"ArtifactBucket": "bkt", "ArtifactPrefix": "some/prefix", "CodeVersion": "v1"}
    uploaded = {f"s3://bkt/{key}" for key in stack.artifact_keys("some/prefix", "v1").values()}
    jobs = [r for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Job"]
    scripts = set()
    for job in jobs:
        properties = job["Properties"]
        script = substitute(properties["Command"]["ScriptLocation"], values)
        extra = substitute(properties["DefaultArguments"]["--extra-py-files"], values)
        assert script in uploaded and extra in uploaded
        assert extra.endswith(f"/package/{stack.PACKAGE_FILE}")
        scripts.add(script)
    assert scripts == {f"s3://bkt/some/prefix/v1/glue_jobs/{job}.py" for job in stack.GLUE_JOBS}
    default = template["Parameters"]["AdditionalPythonModules"]["Default"]
    assert default == stack.glue_python_modules()


def substitute(value, values: dict[str, str]) -> str:
    """Resolve a `!Sub` string over the given parameters (all the template's keys use)."""
    text = value["Fn::Sub"]
    for name, replacement in values.items():
        text = text.replace("${" + name + "}", replacement)
    assert "${" not in text, text
    return text


def test_the_package_alone_lets_the_scripts_import_as_on_glue(tmp_path):
    """Glue layout: each script downloaded on its own, the zip on sys.path, and no repository
    (the editable install's finder is removed). The scripts' imports and the job modules they
    load at run time must all come from the zip."""
    archive = tmp_path / stack.PACKAGE_FILE
    archive.write_bytes(stack.build_package())
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for job in stack.GLUE_JOBS:
        (scripts / f"{job}.py").write_bytes((REPO / "glue_jobs" / f"{job}.py").read_bytes())
    probe = f"""
import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, {str(archive)!r})
for job in {stack.GLUE_JOBS!r}:
    runpy.run_path({str(scripts)!r} + f"/{{job}}.py", run_name="glue_entry")
import glue_jobs._args, pipeline.jobs, pipeline.ingest, pipeline.spark, pipeline.settings
import pipeline.storage, pipeline.channels
for module in (glue_jobs._args, pipeline.jobs, pipeline.ingest, pipeline.settings):
    assert module.__file__.startswith({str(archive)!r}), module.__file__
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"


def test_package_is_reproducible_and_pins_follow_pyproject(tmp_path):
    assert stack.build_package() == stack.build_package()
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\ndependencies = ["pydantic==1.0", "pydantic-settings==2.0", '
        '"tenacity==3", "PyYAML==6.1", "requests==2"]\n'
    )
    assert stack.glue_python_modules(pyproject) == (
        "pydantic==1.0,pydantic-settings==2.0,tenacity==3,pyyaml==6.1"
    )
    pyproject.write_text('[project]\ndependencies = ["pydantic>=1"]\n')
    with pytest.raises(stack.DeployError, match="pydantic"):
        stack.glue_python_modules(pyproject)
