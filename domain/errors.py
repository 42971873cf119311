"""Every error the domain raises, in one tree.

    PetitionError
    ├── ConfigError              a policy, routing, org-chart or calendar file is wrong
    ├── UnknownName              an unknown category, channel, unit, person, policy or role
    ├── IllegalTransition        a move the current stage does not allow
    ├── RuleViolation            the move is allowed here but the rules forbid it now
    │   ├── ExtensionRefused     a second extension, one over the limit, a late one
    │   ├── ClockError           a pause with no reason, a resume with no pause
    │   ├── ConfidentialityViolation  an accusation would reach the accused
    │   └── NotPermitted         this person may not take this action on this case
    ├── RoutingError             no eligible unit or person for a petition
    ├── NoRecipient              an escalation rung whose chain ends with nobody
    ├── CaseNotFound             no case with that id or registration number
    ├── DuplicateRegistration    the registration number is taken
    ├── LedgerRejected           a ledger (台账) to import has bad rows: each listed
    └── ConcurrentUpdate         someone else changed the case since it was read

Adapters translate their own errors into these (``raise CaseNotFound(id) from None``);
nothing here is swallowed.
"""

from __future__ import annotations


class PetitionError(Exception):
    """Base of every error the engine reports to a person."""


class ConfigError(PetitionError):
    """A configuration file or mapping is malformed.

    ``source`` is the file (or a label for built-in data), ``line`` the 1-based line
    when known, ``field`` the dotted path of the offending field.
    """

    def __init__(self, message: str, *, source: str = "<data>", field: str = "",
                 line: int | None = None) -> None:
        self.source = source
        self.field = field
        self.line = line
        self.reason = message
        where = source if line is None else f"{source}:{line}"
        at = f" (field '{field}')" if field else ""
        super().__init__(f"{where}{at}: {message}")

    def located(self, source: str, line: int | None) -> ConfigError:
        """The same error, pinned to a file and line."""
        return ConfigError(self.reason, source=source, field=self.field, line=line)


class UnknownName(PetitionError):
    """A name that is not configured: category, channel, unit, person, policy..."""

    def __init__(self, what: str, name: str, known: list[str] | None = None) -> None:
        self.what = what
        self.name = name
        hint = f"; known: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"unknown {what} '{name}'{hint}")


class IllegalTransition(PetitionError):
    """The case's stage does not allow this action."""

    def __init__(self, case_ref: str, stage: str, action: str, allowed: list[str]) -> None:
        self.case_ref = case_ref
        self.stage = stage
        self.action = action
        can = ", ".join(allowed) if allowed else "nothing (the case is closed)"
        super().__init__(
            f"case {case_ref} is in stage '{stage}'; '{action}' is not allowed there "
            f"(allowed: {can})"
        )


class RuleViolation(PetitionError):
    """The stage allows the action, but a rule forbids it now."""

    def __init__(self, case_ref: str, message: str) -> None:
        self.case_ref = case_ref
        super().__init__(f"case {case_ref}: {message}")


class ExtensionRefused(RuleViolation):
    """An extension the policy does not permit."""


class ClockError(RuleViolation):
    """A pause or resume of a deadline clock that the ledger cannot take."""


class ConfidentialityViolation(RuleViolation):
    """An accusation's material or accuser would reach the accused."""


class NotPermitted(RuleViolation):
    """The person is unknown, holds no relation to the case that permits the action, or is
    recused. (Someone in an accusation's accused set is told there is no such case.)"""


class RoutingError(PetitionError):
    """No unit or person may take the petition."""


class NoRecipient(PetitionError):
    """An escalation rung went up the whole chain and found nobody."""


class CaseNotFound(PetitionError):
    """No case with that id or registration number."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no case '{ref}'")


class KeyPersonNotFound(PetitionError):
    """No key person of that id, or none the person may see (the same answer)."""

    def __init__(self, kp_id: str) -> None:
        self.kp_id = kp_id
        super().__init__(f"no key person '{kp_id}'")


class DuplicateRegistration(PetitionError):
    """A registration number that is already taken."""

    def __init__(self, registration_no: str) -> None:
        self.registration_no = registration_no
        super().__init__(f"registration number '{registration_no}' is already registered")


class LedgerRejected(PetitionError):
    """A ledger to import has bad rows: every problem, one line each (its row and field);
    nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"the ledger was not imported ({len(problems)} problem(s)):\n"
                         + "\n".join(problems))


class ConcurrentUpdate(PetitionError):
    """The case changed since it was read (optimistic version check); nothing was written."""

    def __init__(self, ref: str, version: int) -> None:
        self.ref = ref
        super().__init__(f"case {ref} was changed by someone else since it was read "
                         f"(version {version}); reload it and try again")
