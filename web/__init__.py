"""The office workplace: pages and a JSON API over the use cases in ``services``."""
