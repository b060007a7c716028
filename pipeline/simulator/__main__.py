"""`python -m pipeline.simulator`: the simulator without the rest of the CLI."""

from pipeline.simulator.cli import main

raise SystemExit(main())
