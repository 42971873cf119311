"""Search over the in-memory store (``storage/search.py`` in SQL): the same fields, the same
matching (``domain.search_terms.matches``), the latest stored first. The coarse filter is
the viewer's offices only; the use case judges each case with ``sight`` as it does the
database's. Mixed into ``storage.memory.MemoryUnitOfWork``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

from domain.case import Case
from domain.persons import PersonKeys, normal_phone, same_person
from domain.petition import Petitioner
from domain.search_terms import Query, Scope, matches, searchable
from storage import codec


class MemorySearch:
    def _rows(self) -> Mapping[str, dict[str, Any]]:
        raise NotImplementedError

    def _latest(self, offices: tuple[str, ...] | None) -> Iterator[tuple[str, Case]]:
        for case_id in reversed(list(self._rows())):
            row = self._rows()[case_id]
            if offices is None or row.get("office", "main") in offices:
                yield case_id, codec.from_row(SimpleNamespace(**row))

    def search_cases(self, q: Query, scope: Scope, after: str | None, limit: int
                     ) -> list[Case]:
        if not q:
            return []
        found: list[Case] = []
        skipping = after is not None
        for case_id, case in self._latest(scope.offices):
            if skipping:
                skipping = case_id != after
                continue
            p = case.petition
            if matches(searchable(case.registration_no, p.petitioner.name, p.petitioner.phone,
                                  p.petitioner.id_number, p.subject, p.content), q):
                found.append(case)
                if len(found) >= limit:
                    break
        return found

    def person_cases(self, keys: PersonKeys, scope: Scope | None, limit: int = 500
                     ) -> list[Case]:
        if not keys.usable:
            return []
        who = Petitioner(keys.name, keys.id_number or None, keys.phone or None)
        return [c for _, c in self._latest(scope.offices if scope else None)
                if same_person(c.petition.petitioner, who)][:limit]

    def phone_cases(self, phone: str, limit: int = 200) -> list[Case]:
        if not phone:
            return []
        return [c for _, c in self._latest(None)
                if normal_phone(c.petition.petitioner.phone) == phone][:limit]
