"""`python -m emulators.slackemu`: the local Slack workspace on its own (see emulators/slackemu/console.py)."""

from emulators.slackemu.console import main

raise SystemExit(main())
