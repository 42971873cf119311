"""Processes the reliability tests start and kill: ``python -m tests.integration.workers``.

    claim URL NAME        say "ready", wait for "go" on stdin (so that two sweepers start
                          together), then claim due rungs in batches until none is left;
                          print each claim
    register URL PREFIX   register petitions one after another; print ACK after each commit
"""

from __future__ import annotations

import sys
import uuid

import pendulum

from domain.case import Case, CaseRules
from domain.routing import route
from services.config import load_office
from storage.db import make_engine
from storage.repository import SqlUnitOfWork
from tests.conftest import SAMPLE_OFFICE, wage_petition


def claim(url: str, name: str) -> None:
    engine = make_engine(url)
    now = pendulum.datetime(2030, 1, 1, tz="UTC")
    with engine.connect():  # connected before the start line, not after it
        pass
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    while True:
        with SqlUnitOfWork(engine) as uow:
            got = uow.claim_due(now, name, 50)
            uow.commit()
        if not got:
            return
        sys.stdout.write("".join(f"{c.case_id}|{c.clock}|{c.rung}\n" for c in got))
        sys.stdout.flush()


def register(url: str, prefix: str) -> None:
    office = load_office(SAMPLE_OFFICE)
    policy = office.policies.get("cn-2022")
    rules = CaseRules(policy, office.calendar, office.org)
    engine = make_engine(url)
    for i in range(1_000_000):
        petition = wage_petition()
        now = pendulum.now("UTC")
        regno = f"{prefix}-{i:06d}"
        with SqlUnitOfWork(engine) as uow:
            case = Case.register(case_id=uuid.uuid4().hex, registration_no=regno,
                                 petition=petition, policy=policy, actor="qian.hui", now=now)
            case.assign(route(petition, office.routing, office.org, uow.cases.workload()),
                        actor="qian.hui", now=now, rules=rules)
            uow.cases.add(case)
            uow.commit({case.id: case.schedule(rules, now)})
        print(f"ACK {regno}", flush=True)  # acknowledged only once it is committed


if __name__ == "__main__":
    command, url, arg = sys.argv[1:4]
    {"claim": claim, "register": register}[command](url, arg)
