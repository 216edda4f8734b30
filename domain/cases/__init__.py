"""Cases: triage units that may be escalated to incidents (service: rules and storage; cards: their Slack card)."""
