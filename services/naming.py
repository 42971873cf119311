"""Who and what an id is, for people: the installation's people, units and offices by name
(``org.yaml``, ``office.yaml``), cases by registration number. The ``Names`` the domain's
narrative (``domain.narrative``) and every page, report and table read."""

from __future__ import annotations

from domain.errors import CaseNotFound
from domain.labels import SYSTEM_ACTORS
from services.bootstrap import App


class OfficeNames:
    """``domain.narrative.Names`` over every office of ``app``'s installation. An id that
    names nothing configured (a person since removed from the org chart) is shown as
    "（已不在册）" rather than as the id."""

    GONE = "（已不在册）"

    def __init__(self, app: App) -> None:
        self.app = app
        tree = app.tree
        self._people = {p.id: p.name for o in tree.nodes.values()
                        for p in o.org.people.values()}
        self._units = {u.id: u.name for o in tree.nodes.values() for u in o.org.units.values()}
        self._offices = {o.id: o.name for o in tree.nodes.values()}
        self._cases: dict[str, str] = {}

    def person(self, pid: str) -> str:
        return self._people.get(pid) or SYSTEM_ACTORS.get(pid) or self.GONE

    def unit(self, uid: str) -> str:
        return self._units.get(uid) or self.GONE

    def office(self, oid: str) -> str:
        return self._offices.get(oid) or self.GONE

    def case(self, cid: str) -> str:
        """A case's registration number (its id only when it has none: never the internal
        ``p-…`` form when a number exists)."""
        if cid not in self._cases:
            try:
                with self.app.uow() as uow:
                    self._cases[cid] = uow.cases.get(cid, lock=False).ref
            except CaseNotFound:
                self._cases[cid] = "（另一信访件）"
        return self._cases[cid]
