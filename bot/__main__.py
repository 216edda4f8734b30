"""`python -m bot` — run warroom, or one of its operator commands."""

from bot.cli import main

raise SystemExit(main())
