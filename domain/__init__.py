"""The pure domain of petition handling: stages, deadlines, the working-day calendar,
routing, escalation and audit events. Standard library, pendulum and ``holidays`` only;
nothing here reads the clock or does I/O."""
