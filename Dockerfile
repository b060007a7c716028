# Wistia Video Insights: the dashboard image (Home.py + app_pages/ + the installed project).
#
# On AWS it runs with WVI_WAREHOUSE=athena and WVI_ORCHESTRATOR=glue: queries go to Athena,
# pipeline runs to the Glue workflow. Spark never runs in this container, so the image has
# neither Java nor PySpark:
#   - pyspark (pinned in pyproject.toml for the pipeline and Glue) is about 300 MB and useless
#     without a JVM, which would add about 200 MB more. It is left out on purpose: the build
#     installs every other pin of [project].dependencies, then the project with --no-deps.
#     Consequence: `pip check` reports pyspark as missing, and `python -m pipeline run`,
#     `transform`, `check` and `demo` do not work in this image (use `make demo` or Glue).
#     The dashboard, `pipeline users ...` and the Glue/Athena code paths never import pyspark;
#     tests/test_repo_lint.py checks that.
#   - With WVI_WAREHOUSE=duckdb and a gold folder mounted at WVI_DATA_ROOT the same image shows
#     local data (read-only look; the Admin page cannot start local runs without Spark).
# Configuration comes only from the environment (docs/run-on-aws.md): WVI_* variables,
# WVI_COOKIE_KEY (>= 32 bytes) and WVI_USERS_FILE (a users file mounted into the container).
#
# Build: docker build -t wistia-insights-dashboard .
# Run, host it, create users: docs/run-on-aws.md section 7.
#
# Base image pinned by version (Python 3.11 = Glue 5.1's Python). For byte-for-byte rebuilds,
# add the digest: FROM python:3.11.17-slim-trixie@sha256:<digest of the tag when you adopt it>.

FROM python:3.11.17-slim-trixie AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1

# The pip that `make venv` uses today, so resolution and metadata handling match the dev env.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir pip==26.3
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first (a layer that changes only with pyproject.toml): the exact pins of
# [project].dependencies without pyspark, from wheels only (no compiler in this image).
COPY pyproject.toml ./
RUN python -c "import pathlib, tomllib; deps = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['project']['dependencies']; pathlib.Path('/tmp/requirements.txt').write_text(''.join(d + chr(10) for d in deps if not d.lower().startswith('pyspark')))" \
    && pip install --no-cache-dir --only-binary :all: -r /tmp/requirements.txt

# The project itself, non-editable, without resolving dependencies again (so no pyspark).
COPY README.md ./
COPY pipeline ./pipeline
COPY services ./services
COPY glue_jobs ./glue_jobs
COPY app ./app
RUN pip install --no-cache-dir --no-deps . \
    && python -c "import app.router, services.warehouse, services.control, pipeline.cli"


FROM python:3.11.17-slim-trixie

LABEL org.opencontainers.image.title="wistia-insights-dashboard" \
      org.opencontainers.image.description="Wistia Video Insights dashboard (Streamlit)"

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    WVI_WAREHOUSE=athena \
    WVI_ORCHESTRATOR=glue \
    WVI_USERS_FILE=/etc/wvi/users.yaml

# An unprivileged user with a home (Streamlit may keep small files under ~/.streamlit).
RUN groupadd --system --gid 10001 wvi \
    && useradd --system --uid 10001 --gid wvi --create-home --home-dir /home/wvi \
       --shell /usr/sbin/nologin wvi

COPY --from=build /opt/venv /opt/venv

# The Streamlit entry point and its page files; `app`, `services` and `pipeline` come from
# the installed package. Everything stays root-owned and read-only for the app user.
WORKDIR /srv/wvi
COPY Home.py ./
COPY app_pages ./app_pages
COPY .streamlit/config.toml ./.streamlit/config.toml

# Numeric, so runtimes that enforce runAsNonRoot can verify it without /etc/passwd.
USER 10001:10001

EXPOSE 8501

# Streamlit answers 200 "ok" on /_stcore/health once its runtime is ready, 503 otherwise
# (urlopen raises, so the check fails). It answers nothing before its start-up has loaded the
# dashboard's data (Home.py: 30 s at most; nothing to load with Athena), within the start
# period. No curl in -slim: Python's urllib does it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status == 200 else 1)"]

CMD ["streamlit", "run", "Home.py", "--server.address", "0.0.0.0", "--server.port", "8501", "--server.headless", "true"]
