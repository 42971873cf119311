"""What the workplace, the reports and the sweeps read from the in-memory store, as
``storage.reads`` does from SQL. Mixed into ``storage.memory.MemoryUnitOfWork``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any

from domain.case import Case
from storage import codec
from storage.chain import AuditCheck, AuditRow, Break, check_chain
from storage.ports import OutboxRow, PracticeStore


def _row(values: Mapping[str, Any]) -> Any:
    return SimpleNamespace(**values)


class MemoryReads:
    data: Any  # storage.memory._Data
    practices: PracticeStore

    def open_cases(self) -> list[Case]:
        return [c for c in self.all_cases() if c.stage.value != "closed"]

    def open_case_ids(self) -> list[str]:
        return [c["id"] for c in sorted(self.data.cases.values(),
                                        key=lambda r: (r["registered_at"], r["id"]))
                if c["stage"] != "closed"]

    def find_cases(self, *, people: Sequence[str] = (), units: Sequence[str] = (),
                   stage: str | None = None, open_only: bool = True, by_due: bool = False,
                   limit: int | None = None, due_before: dt.datetime | None = None,
                   offset: int = 0, offices: Sequence[str] = (),
                   registered_from: dt.datetime | None = None) -> list[Case]:
        rows = self._found(people, units, stage, open_only, offices)
        if due_before is not None:
            rows = [r for r in rows if r.get("next_due_at") is not None
                    and r["next_due_at"] < due_before]
        if registered_from is not None:
            rows = [r for r in rows if r["registered_at"] >= registered_from]
        if by_due:
            rows.sort(key=lambda r: (r.get("next_due_at") is None,
                                     r.get("next_due_at") or r["registered_at"],
                                     r["registered_at"]))
        end = None if limit is None else offset + limit
        return [codec.from_row(_row(r)) for r in rows[offset:end]]

    def count_cases(self, *, people: Sequence[str] = (), units: Sequence[str] = (),
                    stage: str | None = None, open_only: bool = True,
                    offices: Sequence[str] = ()) -> int:
        return len(self._found(people, units, stage, open_only, offices))

    def _found(self, people: Sequence[str], units: Sequence[str], stage: str | None,
               open_only: bool, offices: Sequence[str] = ()) -> list[dict[str, Any]]:
        def wanted(r: dict[str, Any]) -> bool:
            who = not (people or units) or r["responder"] in people or \
                r["leader"] in people or r["unit"] in units
            return who and (stage is None or r["stage"] == stage) and not (
                open_only and r["stage"] == "closed") and (
                not offices or r.get("office", "main") in offices)
        return sorted((r for r in self.data.cases.values() if wanted(r)),
                      key=lambda r: (r["registered_at"], r["id"]))

    def messages_to(self, recipient: str, kinds: Sequence[str], limit: int = 50
                    ) -> list[OutboxRow]:
        rows = [m for m in self.data.outbox.values()
                if m["recipient"] == recipient and m["kind"] in kinds]
        return [OutboxRow(**m) for m in sorted(rows, key=lambda m: -m["id"])[:limit]]

    def all_cases(self) -> list[Case]:
        rows = sorted(self.data.cases.values(), key=lambda r: r["registered_at"])
        return [codec.from_row(_row(r)) for r in rows]

    def history_of(self, case: Case) -> list[AuditRow]:
        before = self.practices.events(f"signal:{case.signal}") if case.signal else []
        return [*before, *self.events_of(case.id)]

    def events_of(self, case_id: str) -> list[AuditRow]:
        return self.practices.events(case_id)

    def audit_check(self, key: bytes | None = None) -> tuple[int, list[Break]]:
        """Every row read (this store keeps no checkpoints: ``key`` changes nothing)."""
        heads = {**{r["id"]: (r["audit_seq"], r["audit_head"]) for r in self.data.cases.values()},
                 **self.data.heads}
        chains: dict[str, list[AuditRow]] = {}
        for row in sorted(self.data.audit, key=lambda r: r.id):
            chains.setdefault(row.case_id, []).append(row)
        breaks = [b for subject in sorted(set(heads) | set(chains))
                  if (b := check_chain(subject, chains.get(subject, []), heads.get(subject)))]
        return len(set(heads) | set(chains)), breaks

    def audit_verify(self, key: bytes, at: dt.datetime, *, full: bool = False) -> AuditCheck:
        checked, breaks = self.audit_check()
        return AuditCheck(checked, breaks, True, len(self.data.audit),
                          note=None if full else "the in-memory store keeps no checkpoints: "
                          "every audit row was read")

    def audit_last(self, key: bytes) -> AuditCheck | None:
        return None  # no checkpoints here
