"""Who and what an id is, for people: the installation's people, units and offices by name
(``org.yaml``, ``office.yaml``), cases by registration number. The ``Names`` the domain's
narrative (``domain.narrative``) and every page, report and table read."""

from __future__ import annotations

from domain.errors import CaseNotFound
from domain.labels import SYSTEM_ACTORS
from domain.offices import sight_in
from domain.permissions import Sight
from services.bootstrap import App


class OfficeNames:
    """``domain.narrative.Names`` over every office of ``app``'s installation. An id that
    names nothing configured (a person since removed from the org chart) is shown as
    "（已不在册）" rather than as the id."""

    GONE = "（已不在册）"
    OTHER = "（另一信访件）"

    def __init__(self, app: App, viewer: str | None = None) -> None:
        self.app, self.viewer = app, viewer
        tree = app.tree
        self._people = {p.id: p.name for o in tree.nodes.values()
                        for p in o.org.people.values()}
        self._units = {u.id: u.name for o in tree.nodes.values() for u in o.org.units.values()}
        self._offices = {o.id: o.name for o in tree.nodes.values()}
        self._cases: dict[str, str] = {}

    def person(self, pid: str) -> str:
        return (self._people.get(pid) or SYSTEM_ACTORS.get(pid)
                or SYSTEM_ACTORS.get(pid.split("@", 1)[0]) or self.GONE)

    def unit(self, uid: str) -> str:
        return self._units.get(uid) or self.GONE

    def office(self, oid: str) -> str:
        return self._offices.get(oid) or self.GONE

    def case(self, cid: str) -> str:
        """A case's registration number (its id only when it has none: never the internal
        ``p-…`` form when a number exists). Read for a ``viewer``, the number of a case they
        may not see its material of is not told: "另一信访件", as for one that does not exist
        (an accusation's number would tell its outline reader whose it is)."""
        if cid not in self._cases:
            try:
                with self.app.uow() as uow:
                    case = uow.cases.get(cid, lock=False)
                seen = Sight.FULL if self.viewer is None else sight_in(
                    self.app.tree, case, self.viewer)
                self._cases[cid] = case.ref if seen >= Sight.MATERIAL else self.OTHER
            except CaseNotFound:
                self._cases[cid] = self.OTHER
        return self._cases[cid]

    def may_see(self, cid: str) -> bool:
        """Whether the case ``cid`` is named to this reader (see ``case``)."""
        return self.case(cid) != self.OTHER
