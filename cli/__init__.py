"""The ``petitions`` command: typer and rich over the use cases in ``services``. One module
per command group; ``cli.main`` loads only the group a command needs."""
