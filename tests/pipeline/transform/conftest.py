from tests.pipeline.transform.scenario import scenario  # noqa: F401
