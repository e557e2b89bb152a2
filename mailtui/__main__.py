"""``python -m mailtui`` runs the same entry point as the ``mailtui`` console script."""

from mailtui.cli import main

raise SystemExit(main())
