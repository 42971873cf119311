"""Notifications (templates, renderers, senders, outbox). Built with the Notifications issue."""
