"""Prefect, and only Prefect: the flows and tasks, the lifecycle's forms, creating and
waking runs, ``serve`` and the embedded server. The use cases they run are in ``services``."""
