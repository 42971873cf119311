"""The composition root: settings, configuration files, the CLI and (later) Prefect flows.

Importing this package imports no Prefect; flow modules do, and only they.
"""
