"""The petitioner at the public door (网上信访): whose case is whose, and what they may do.

A case is the signed-in petitioner's when the mobile number its petitioner gave
(``Petitioner.phone``, compared as ``domain.persons.normal_phone`` writes it) is the number
they proved they hold with an SMS code. Nothing else makes it theirs: not the name, not the
ID number (typed by anyone), not the registration number. A case that is not theirs is
``CaseNotFound``, the same answer as a number that does not exist.

What they may do is the permission table's (``domain.permissions.PERMITTED``: the acts
that name ``Relation.PETITIONER``), within the windows the case's rules give (the domain's
own checks, as at the counter). An accusation (检举控告) shows its stage only online, and is
acted on at the office: what it says and whom it names stay off the public door.
"""

from __future__ import annotations

from domain.acts import Act, FileAct
from domain.case import Case
from domain.errors import CaseNotFound, NotPermitted
from domain.permissions import ONLINE_REGISTRAR, PERMITTED, Permission, Relation
from domain.persons import normal_phone

__all__ = ["ONLINE_REGISTRAR", "PETITIONER_ACTOR", "check_petitioner", "is_theirs",
           "mobile"]

# Who the audit trail names for an act the petitioner took online (labelled 信访人).
PETITIONER_ACTOR = "petitioner"


def mobile(phone: str | None) -> str:
    """A mainland mobile number's eleven digits (``+86 139-1234-5678`` → ``13912345678``),
    or ``""`` for anything else."""
    digits = normal_phone(phone)
    return digits if len(digits) == 11 and digits.startswith("1") else ""


def is_theirs(case: Case, verified: str) -> bool:
    """Whether ``case`` is the petitioner's who verified the mobile number ``verified``."""
    number = mobile(verified)
    return bool(number) and mobile(case.petition.petitioner.phone) == number


def check_petitioner(case: Case, verified: str, act: Act | FileAct) -> Permission:
    """Whether the petitioner who verified ``verified`` may take ``act`` on ``case`` now.
    ``CaseNotFound`` when the case is not theirs; ``NotPermitted`` for an act the table
    gives them not, and for any act on an accusation (taken at the office)."""
    if not is_theirs(case, verified):
        raise CaseNotFound(case.ref)
    if Relation.PETITIONER not in PERMITTED[act]:
        raise NotPermitted(case.ref, f"the petitioner may not '{act.command}' it online")
    if case.petition.is_accusation and act is not FileAct.ATTACH:
        raise NotPermitted(case.ref, "an accusation is acted on at the petition office, "
                           "not online")
    return Permission(Relation.PETITIONER, on_behalf_of_petitioner=False)
