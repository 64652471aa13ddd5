"""``python -m gateway``: serve the HTTP gateway until SIGTERM/SIGINT."""

from gateway.main import main

raise SystemExit(main())
