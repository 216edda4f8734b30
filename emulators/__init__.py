"""Local emulators of the services warroom talks to (Slack, Jira, Google, PagerDuty, an OpenAI-compatible
server, workflow webhooks): the real wire formats on loopback, for tests, benches and the demo."""
