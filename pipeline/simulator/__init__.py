"""A deterministic fake Wistia Stats API: synthetic account, HTTP server, truth file, CLI.

from pipeline.simulator import SimulatorConfig, SimulatorServer

with SimulatorServer(SimulatorConfig(port=0, medias=5, days=30)) as sim:
    client = WistiaClient(base_url=sim.base_url, token=sim.config.token)
    ...
    truth = sim.account.truth()
"""

from pipeline.simulator.account import RETENTION_DAYS, SyntheticAccount
from pipeline.simulator.catalog import BRIEF_MEDIAS, Folder, Media
from pipeline.simulator.server import (
    CHAOS_KINDS,
    SimulatorApp,
    SimulatorConfig,
    SimulatorServer,
    make_app,
    parse_chaos,
)
from pipeline.simulator.truth import build_truth, write_truth

__all__ = [
    "BRIEF_MEDIAS",
    "CHAOS_KINDS",
    "RETENTION_DAYS",
    "Folder",
    "Media",
    "SimulatorApp",
    "SimulatorConfig",
    "SimulatorServer",
    "SyntheticAccount",
    "build_truth",
    "make_app",
    "parse_chaos",
    "write_truth",
]
