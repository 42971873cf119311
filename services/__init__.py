"""The use cases and the composition root: settings, the office's configuration, the clock
and bootstrap; registering, routing and acting on cases; the sweep; delivering the outbox;
the practices; the read models (timeline, lists, measures, the report).

Every entrance (the CLI, the Prefect flows, the web workplace) calls these. Imports the
domain, storage and notifications; never Prefect, typer, rich or a web framework.
"""
