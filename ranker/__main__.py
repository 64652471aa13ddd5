"""``python -m ranker`` serves the RankerService; ``python -m ranker evaluate|compare|report`` are commands."""

from ranker.cli import main

raise SystemExit(main())
