"""`python -m matrixkg` runs the command-line interface."""

from matrixkg.cli import main

raise SystemExit(main())
