"""infra/wistia-insights.yaml: cfn-lint clean, and the properties ARCHITECTURE §14 asks for,
checked on the parsed template (moto cannot provision Glue, Athena or Secrets Manager
resources from CloudFormation; see tests/pipeline/test_deploy.py)."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "wistia-insights.yaml"
JOB_ORDER = ("ingest", "bronze_to_silver", "silver_to_gold", "quality_checks")

# Actions that AWS authorizes only against Resource "*" and that the template may grant on
# "*". Empty on purpose: every statement in the template is scoped to an ARN. Candidates that
# would qualify if ever needed: cloudwatch:PutMetricData (for --enable-metrics; scope it with
# a cloudwatch:namespace condition), athena:ListWorkGroups, secretsmanager:GetRandomPassword,
# cloudformation:ValidateTemplate. Note that glue:GetWorkflowRuns and the logs actions do
# take resource ARNs, so they do not belong here.
STAR_RESOURCE_ACTIONS: frozenset[str] = frozenset()


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return cfn_yaml.load(str(TEMPLATE))


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def props(template: dict, logical_id: str) -> dict:
    return template["Resources"][logical_id]["Properties"]


def test_cfn_lint_reports_nothing():
    runner = "import sys; from cfnlint.runner import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", runner, str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""


def test_fits_the_template_body_limit_deploy_relies_on():
    # deploy sends the template as TemplateBody, which CloudFormation caps at 51,200 bytes
    assert len(TEMPLATE.read_bytes()) < 51_200


# ---------------------------------------------------------------------- evaluation helpers
def defaults(template: dict) -> dict[str, Any]:
    values = {k: p.get("Default") for k, p in template["Parameters"].items()}
    values.update({"AWS::StackName": "wvi", "AWS::NoValue": None})
    return values


def evaluate(value: Any, template: dict, params: dict[str, Any]) -> Any:
    """Resolve Ref (parameters, pseudo parameters), Fn::If/Equals/Not and Fn::Sub of
    parameters; resource Refs stay as {"Ref": id}."""
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return params.get(value["Ref"], value)
    if "Fn::Equals" in value:
        a, b = (evaluate(v, template, params) for v in value["Fn::Equals"])
        return a == b
    if "Fn::Not" in value:
        return not evaluate(value["Fn::Not"][0], template, params)
    if "Fn::If" in value:
        name, yes, no = value["Fn::If"]
        chosen = evaluate(template["Conditions"][name], template, params)
        return evaluate(yes if chosen else no, template, params)
    if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        return re.sub(
            r"\$\{([^}]+)\}",
            lambda m: str(params.get(m.group(1), m.group(0))),
            value["Fn::Sub"],
        )
    return value


def job_names(template: dict) -> dict[str, str]:
    """Glue job logical id → the step it runs (its name after the stack prefix)."""
    params = defaults(template)
    names = {}
    for logical_id, job in resources(template, "AWS::Glue::Job").items():
        names[logical_id] = evaluate(job["Properties"]["Name"], template, params).split("-", 1)[1]
    return names


# ---------------------------------------------------------------------- Glue
def test_four_glue_5_1_jobs_one_run_at_a_time_with_the_argument_contract(template):
    jobs = resources(template, "AWS::Glue::Job")
    assert sorted(job_names(template).values()) == sorted(JOB_ORDER)
    for logical_id, job in jobs.items():
        p = job["Properties"]
        assert p["GlueVersion"] == "5.1", logical_id  # a string, not the number 5.1
        assert p["Command"]["Name"] == "glueetl" and p["Command"]["PythonVersion"] == "3"
        assert p["ExecutionProperty"]["MaxConcurrentRuns"] == 1
        assert p["WorkerType"] == {"Ref": "WorkerType"}
        assert p["NumberOfWorkers"] == {"Ref": "NumberOfWorkers"}
        assert "Timeout" in p
        args = p["DefaultArguments"]
        assert args["--data_root"] == {"Fn::Sub": "s3://${DataBucket}/${DataPrefix}"}
        assert args["--load_date"] == "auto"
        assert args["--job-bookmark-option"] == "job-bookmark-disable"
        assert args["--additional-python-modules"] == {"Ref": "AdditionalPythonModules"}
        assert "--extra-py-files" in args


def test_only_the_ingest_job_gets_the_secret_and_the_others_the_catalog(template):
    names = job_names(template)
    for logical_id, job in resources(template, "AWS::Glue::Job").items():
        args = job["Properties"]["DefaultArguments"]
        if names[logical_id] == "ingest":
            assert args["--wistia_secret_id"] == {"Ref": "WistiaTokenSecret"}
        else:
            assert "--wistia_secret_id" not in args
            assert args["--enable-glue-datacatalog"] == "true"
        if names[logical_id] == "bronze_to_silver":
            assert args["--pii"] == {"Ref": "PiiMode"}
            assert args["--pii_key_secret_id"] == {"Ref": "PiiKeySecret"}
        else:
            assert "--pii" not in args and "--pii_key_secret_id" not in args
    assert defaults(template)["PiiMode"] == "masked"


def test_workflow_chain_scheduled_start_then_each_job_after_the_previous_succeeded(template):
    workflows = resources(template, "AWS::Glue::Workflow")
    assert [w["Properties"]["MaxConcurrentRuns"] for w in workflows.values()] == [1]
    (workflow_id,) = workflows
    names = job_names(template)
    params = {**defaults(template), "Schedule": "cron(0 6 * * ? *)"}
    triggers = resources(template, "AWS::Glue::Trigger").values()
    assert all(t["Properties"]["WorkflowName"] == {"Ref": workflow_id} for t in triggers)

    starts = [t["Properties"] for t in triggers if "Predicate" not in t["Properties"]]
    assert len(starts) == 1
    start = starts[0]
    assert evaluate(start["Type"], template, params) == "SCHEDULED"
    assert evaluate(start["Schedule"], template, params) == params["Schedule"]
    assert re.fullmatch(r"cron\(.+\)", params["Schedule"])
    assert evaluate(start["StartOnCreation"], template, params) is True
    assert [names[a["JobName"]["Ref"]] for a in start["Actions"]] == ["ingest"]

    follows = {}
    for trigger in triggers:
        p = trigger["Properties"]
        if "Predicate" not in p:
            continue
        assert p["Type"] == "CONDITIONAL" and p["StartOnCreation"] is True
        (condition,) = p["Predicate"]["Conditions"]
        assert condition["LogicalOperator"] == "EQUALS" and condition["State"] == "SUCCEEDED"
        (action,) = p["Actions"]
        follows[names[condition["JobName"]["Ref"]]] = names[action["JobName"]["Ref"]]
    chain = ["ingest"]
    while chain[-1] in follows:
        chain.append(follows.pop(chain[-1]))
    assert tuple(chain) == JOB_ORDER and follows == {}


def test_an_empty_schedule_makes_the_start_trigger_on_demand(template):
    # The default: daily.yml's cron starts the daily run, so a stack deployed with the
    # defaults never has two schedules.
    assert defaults(template)["Schedule"] == ""
    params = defaults(template)
    (start,) = [
        t["Properties"]
        for t in resources(template, "AWS::Glue::Trigger").values()
        if "Predicate" not in t["Properties"]
    ]
    assert evaluate(start["Type"], template, params) == "ON_DEMAND"
    assert evaluate(start["Schedule"], template, params) is None
    assert evaluate(start["StartOnCreation"], template, params) is None  # not allowed there


def test_glue_databases_are_parameters_located_in_the_data_prefix(template):
    databases = resources(template, "AWS::Glue::Database")
    found = {}
    for db in databases.values():
        found[db["Properties"]["DatabaseInput"]["Name"]["Ref"]] = db["Properties"]["DatabaseInput"][
            "LocationUri"
        ]["Fn::Sub"]
    assert found == {
        "SilverDatabaseName": "s3://${DataBucket}/${DataPrefix}/silver",
        "GoldDatabaseName": "s3://${DataBucket}/${DataPrefix}/gold",
    }
    params = template["Parameters"]
    assert params["SilverDatabaseName"]["Default"] == "wistia_silver"
    assert params["GoldDatabaseName"]["Default"] == "wistia_gold"


# ---------------------------------------------------------------------- storage, Athena, secret
def test_buckets_encrypted_private_tls_only_data_versioned_results_expiring(template):
    buckets = resources(template, "AWS::S3::Bucket")
    assert set(buckets) == {"DataBucket", "AthenaResultsBucket"}
    for logical_id, bucket in buckets.items():
        p = bucket["Properties"]
        (rule,) = p["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        block = p["PublicAccessBlockConfiguration"]
        assert all(
            block[k] is True
            for k in (
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            )
        )
        assert tls_only(template, logical_id), logical_id
    assert props(template, "DataBucket")["VersioningConfiguration"]["Status"] == "Enabled"
    rules = props(template, "AthenaResultsBucket")["LifecycleConfiguration"]["Rules"]
    assert any(r["Status"] == "Enabled" and "ExpirationInDays" in r for r in rules)


def tls_only(template: dict, bucket_id: str) -> bool:
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        p = policy["Properties"]
        if p["Bucket"] != {"Ref": bucket_id}:
            continue
        for s in p["PolicyDocument"]["Statement"]:
            secure = s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
            if s["Effect"] == "Deny" and s["Principal"] == "*" and secure == "false":
                return True
    return False


def test_athena_workgroup_enforces_a_cutoff_and_results_in_the_results_bucket(template):
    (workgroup,) = resources(template, "AWS::Athena::WorkGroup").values()
    config = workgroup["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoff"}
    assert template["Parameters"]["AthenaBytesScannedCutoff"]["MinValue"] >= 10_000_000
    location = config["ResultConfiguration"]["OutputLocation"]["Fn::Sub"]
    assert location.startswith("s3://${AthenaResultsBucket}/")


def test_the_secrets_have_no_value_and_each_is_read_by_its_one_role(template):
    # The token is for ingest only, the PII key for bronze_to_silver only (it hashes IPs).
    reader_of = {"WistiaTokenSecret": "GlueIngestRole", "PiiKeySecret": "GlueSilverRole"}
    assert set(resources(template, "AWS::SecretsManager::Secret")) == set(reader_of)
    for secret_id in reader_of:
        secret = props(template, secret_id)
        assert "SecretString" not in secret and "GenerateSecretString" not in secret
    readers = {
        role
        for role, statement in allow_statements(template)
        if any(a.startswith("secretsmanager:") for a in as_list(statement["Action"]))
        and role != "CloudFormationRole"  # manages the secrets' metadata, cannot read them
    }
    assert readers == set(reader_of.values())
    read = {}
    for role, statement in allow_statements(template):
        if "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
            assert as_list(statement["Action"]) == ["secretsmanager:GetSecretValue"]
            (resource,) = as_list(statement["Resource"])
            read[resource["Ref"]] = role
    assert read == reader_of


# ---------------------------------------------------------------------- IAM
def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def allow_statements(template: dict) -> Iterator[tuple[str, dict]]:
    """(owner, statement) of every Allow statement in an identity policy: roles' inline
    policies, managed policies (owner: the attached roles' policy id) and trust policies."""
    for logical_id, role in resources(template, "AWS::IAM::Role").items():
        p = role["Properties"]
        documents = [p["AssumeRolePolicyDocument"]]
        documents += [policy["PolicyDocument"] for policy in p.get("Policies", [])]
        for document in documents:
            for statement in document["Statement"]:
                if statement["Effect"] == "Allow":
                    yield logical_id, statement
    for logical_id, policy in resources(template, "AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                yield logical_id, statement


def test_the_jobs_may_read_and_deploy_may_upload_every_code_version(template):
    """The Glue roles may read, and the GitHub deploy role may upload, the keys of any code
    version under the stack's prefix (not only the version the stack was created with)."""
    from pipeline.deploy import artifact_keys

    params = {**defaults(template), "ArtifactBucket": "bkt", "ArtifactPrefix": "some/prefix"}
    params["AWS::Partition"] = "aws"
    found = {
        statement["Sid"]: evaluate(statement["Resource"], template, params)
        for _, statement in allow_statements(template)
        if statement.get("Sid") in ("ReadArtifacts", "UploadArtifacts")
    }
    assert sorted(found) == ["ReadArtifacts", "UploadArtifacts"]
    for sid, resource in found.items():
        for version in ("v1", "0123456789abcdef"):
            for key in artifact_keys("some/prefix", version).values():
                assert fnmatchcase(f"arn:aws:s3:::bkt/{key}", resource), (sid, key)


def iam_violations(template: dict) -> list[str]:
    """Wildcard actions, NotAction/NotResource, and Resource "*" outside the allowlist."""
    problems = []
    for owner, statement in allow_statements(template):
        if "NotAction" in statement or "NotResource" in statement:
            problems.append(f"{owner}: NotAction/NotResource")
        actions = as_list(statement.get("Action", []))
        for action in actions:
            if action == "*" or (isinstance(action, str) and action.endswith(":*")):
                problems.append(f"{owner}: action {action}")
        if "*" in as_list(statement.get("Resource", [])):
            extra = [a for a in actions if a not in STAR_RESOURCE_ACTIONS]
            if extra:
                problems.append(f"{owner}: Resource * for {extra}")
    return problems


def test_no_wildcard_actions_and_no_star_resources(template):
    assert iam_violations(template) == []


def test_the_iam_check_catches_what_it_forbids(template):
    broken = copy.deepcopy(template)
    statements = broken["Resources"]["AppRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    statements.append({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:x"})
    statements.append({"Effect": "Allow", "Action": "glue:GetJob", "Resource": "*"})
    assert len(iam_violations(broken)) == len(iam_violations(template)) + 2


def test_nothing_is_tied_to_one_partition_region_or_account():
    text = TEMPLATE.read_text()
    assert "arn:aws:" not in text  # ARNs use ${AWS::Partition}
    assert not re.search(r"\b\d{12}\b", text)  # no account ids
    assert not re.search(r"\b(us|eu|ap|sa|ca|me|af)-[a-z]+-\d\b", text)  # no regions


def test_github_role_trusts_only_the_main_branch_of_the_repository(template):
    trust = props(template, "GitHubActionsRole")["AssumeRolePolicyDocument"]["Statement"]
    (statement,) = trust
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert set(statement["Condition"]) == {"StringEquals"}  # no StringLike wildcards
    claims = statement["Condition"]["StringEquals"]
    assert claims["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"
    assert claims["token.actions.githubusercontent.com:sub"] == {
        "Fn::Sub": "repo:${GitHubRepository}:ref:refs/heads/main"
    }
    federated = statement["Principal"]["Federated"]["Fn::If"]
    assert federated == [
        "CreateOidcProvider",
        {"Ref": "GitHubOidcProvider"},
        {"Ref": "GitHubOidcProviderArn"},
    ]


def test_github_role_deploys_only_through_the_stack_service_role(template):
    statements = [s for r, s in allow_statements(template) if r == "GitHubActionsRole"]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert not {a for a in actions if a.startswith(("iam:Create", "iam:Put", "s3:Create"))}
    (pass_role,) = [s for s in statements if "iam:PassRole" in as_list(s["Action"])]
    assert pass_role["Resource"] == {"Fn::GetAtt": ["CloudFormationRole", "Arn"]}
    assert pass_role["Condition"]["StringEquals"]["iam:PassedToService"] == (
        "cloudformation.amazonaws.com"
    )
    (stack,) = [s for s in statements if "cloudformation:UpdateStack" in as_list(s["Action"])]
    assert stack["Resource"] == {"Ref": "AWS::StackId"}
    assert {"glue:StartWorkflowRun", "glue:GetWorkflowRun", "glue:GetWorkflowRuns"} <= actions


def test_app_role_reads_and_queries_but_writes_only_athena_results(template):
    statements = [s for r, s in allow_statements(template) if r == "AppRole"]
    actions = {a for s in statements for a in as_list(s["Action"])}
    assert {
        "athena:StartQueryExecution",
        "glue:GetTable",
        "s3:GetObject",
        "glue:StartWorkflowRun",
        "glue:GetWorkflowRun",
        "glue:GetWorkflowRuns",
    } <= actions
    assert not {
        a for a in actions if re.match(r"glue:(Create|Update|Delete|Batch(Create|Delete))", a)
    }
    for statement in statements:
        if "s3:PutObject" in as_list(statement["Action"]):
            assert statement["Resource"] == {"Fn::Sub": "${AthenaResultsBucket.Arn}/results/*"}
        if "s3:GetObject" in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                text = resource["Fn::Sub"]
                assert "/gold/" in text or "/silver/" in text or "AthenaResults" in text, text


def with_attached(template: dict, role: str) -> set[str]:
    """`role` and the managed policies of the template that it attaches."""
    arns = props(template, role).get("ManagedPolicyArns", [])
    return {role} | {arn["Ref"] for arn in arns if isinstance(arn, dict) and "Ref" in arn}


def role_statements(template: dict, role: str) -> list[dict]:
    """Every Allow statement that applies to `role`: its own and its managed policies'."""
    owners = with_attached(template, role)
    return [statement for who, statement in allow_statements(template) if who in owners]


def data_writes(template: dict, owner: str) -> set[str]:
    """The data-bucket keys (as written in the template) role `owner` may put or delete."""
    keys = set()
    for statement in role_statements(template, owner):
        actions = set(as_list(statement["Action"]))
        if actions & {"s3:PutObject", "s3:DeleteObject"}:
            for resource in as_list(statement["Resource"]):
                text = resource["Fn::Sub"] if isinstance(resource, dict) else resource
                if "DataBucket" in text:
                    keys.add(text.split("${DataPrefix}", 1)[1])
    return keys


def test_ingest_only_adds_to_bronze_and_the_transforms_never_write_it(template):
    assert data_writes(template, "GlueIngestRole") == {"/bronze/*", "/state/pending/*"}
    ingest_deletes = [
        s
        for s in role_statements(template, "GlueIngestRole")
        if "s3:DeleteObject" in as_list(s["Action"])
    ]
    assert not ingest_deletes, "bronze is never rewritten: ingest deletes nothing"
    for role in ("GlueSilverRole", "GlueTransformRole"):
        transform = data_writes(template, role)
        assert {"/silver/*", "/gold/*", "/quality/*", "/state/*"} <= transform
        assert not any(key.startswith("/bronze") or key == "/*" for key in transform), transform


def test_only_bronze_to_silver_runs_with_the_role_that_reads_the_pii_key(template):
    names = job_names(template)
    role_of = {
        names[logical_id]: job["Properties"]["Role"]["Fn::GetAtt"][0]
        for logical_id, job in resources(template, "AWS::Glue::Job").items()
    }
    assert role_of == {
        "ingest": "GlueIngestRole",
        "bronze_to_silver": "GlueSilverRole",
        "silver_to_gold": "GlueTransformRole",
        "quality_checks": "GlueTransformRole",
    }
    for role in role_of.values():
        reads = {
            statement["Resource"]["Ref"]
            for statement in role_statements(template, role)
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"])
        }
        expected = {
            "GlueIngestRole": {"WistiaTokenSecret"},
            "GlueSilverRole": {"PiiKeySecret"},
        }.get(role, set())
        assert reads == expected, role
    # Both transform roles have the same data and catalog rights.
    silver, transform = (
        with_attached(template, r) - {r} for r in ("GlueSilverRole", "GlueTransformRole")
    )
    assert silver == transform == {"GlueJobBasePolicy", "GlueTransformDataPolicy"}


def test_outputs_name_what_the_app_and_ci_need(template):
    assert {
        "DataBucketName",
        "AthenaResultsBucketName",
        "WorkflowName",
        "AthenaWorkGroupName",
        "SilverDatabaseName",
        "GoldDatabaseName",
        "GlueIngestRoleArn",
        "GlueSilverRoleArn",
        "GlueTransformRoleArn",
        "AppRoleArn",
        "GitHubActionsRoleArn",
        "CloudFormationRoleArn",
        "WistiaTokenSecretArn",
        "PiiKeySecretArn",
    } <= set(template["Outputs"])
