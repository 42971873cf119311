"""The scale benchmark's data: a group of mines (the sample mine scaled up) and its petitions
over two years, built through the domain and written in bulk.

- ``write_group(config, mines)``: ``offices.yaml``, the group's office (``deploy/group``)
  and ``mines`` copies of the sample mine, every unit and person id prefixed ``mNN-`` /
  ``mNN.`` (ids are unique across an installation).
- ``generate(app, n, now, seed)``: ``n`` petitions received over the two years before
  ``now``, each taken through the domain's own methods at its own instants (registered,
  routed by its mine's rules, acknowledged, accepted, a leader's acceptance where the rules
  require one, extended, reported, decided, rated, reviewed by the group's office, struck
  off), the way the use cases would; the mix: channels, categories (a tenth accusations),
  group visits, repeats, extensions, reviews. What was received in about the last five
  months is still open (a fifth of all), some of it overdue.
- ``write(engine, built, now)``: the rows the repository would write (cases with their
  audit-chain heads and next due, hash-chained audit events, pending rungs), inserted in
  batches, and the measures' tallies summed from them: ``petitions audit verify`` accepts
  them and the use cases act on them.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, insert

from domain.case import Case
from domain.escalation import DueRung
from domain.measures import facts_of
from domain.outcomes import Outcome, Rating, Resolution
from domain.periods import Period, Unit
from domain.petition import petition_from_mapping
from domain.routing import route
from domain.stages import Stage
from services.bootstrap import App
from services.referrals import refer_up
from storage import codec, search, tallies
from storage.chain import GENESIS, chain_rows
from storage.tables import audit_events, case_search, cases, rung_schedule

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "deploy" / "config"
GROUP = ROOT / "deploy" / "group" / "group"


def _mine(n: int) -> tuple[str, str]:
    return f"m{n:02d}-", f"m{n:02d}."


def write_group(config: Path, mines: int) -> list[str]:
    """The group's configuration under ``config``; the mines' office ids."""
    config.mkdir(parents=True, exist_ok=True)
    shutil.copytree(GROUP, config / "group", dirs_exist_ok=True)
    org = yaml.safe_load((SAMPLE / "org.yaml").read_text(encoding="utf-8"))
    routing = yaml.safe_load((SAMPLE / "routing.yaml").read_text(encoding="utf-8"))
    ids = []
    entries = [{"id": "group", "path": "group"}]
    for n in range(1, mines + 1):
        u, p = _mine(n)
        office = f"mine-{n:02d}"
        ids.append(office)
        folder = config / office
        folder.mkdir(exist_ok=True)
        units = [{**x, "id": u + x["id"],
                  **{k: (u if k == "parent" else p) + x[k]
                     for k in ("head", "leader", "parent") if k in x}}
                 for x in org["units"]]
        people = [{**{k: v for k, v in x.items() if k not in ("channels", "mobile")},
                   "id": p + x["id"], "unit": u + x["unit"],
                   "email": f"{p}{x['id']}@mine.example"} for x in org["people"]]
        (folder / "org.yaml").write_text(yaml.safe_dump({
            "units": units, "people": people, "mine_head": p + org["mine_head"],
            "party_secretary": p + org["party_secretary"],
            "petition_office": u + org["petition_office"],
            "escalation": {"beyond_top": [p + x for x in org["escalation"]["beyond_top"]]},
        }, allow_unicode=True), encoding="utf-8")
        (folder / "routing.yaml").write_text(yaml.safe_dump({
            **routing, "default_unit": u + routing["default_unit"],
            "accusation_unit": u + routing["accusation_unit"],
            "rules": [{**r, "id": r["id"], "unit": u + r["unit"]} for r in routing["rules"]],
        }, allow_unicode=True), encoding="utf-8")
        (folder / "office.yaml").write_text(yaml.safe_dump({
            "name": f"{n}号煤矿信访办公室", "default_policy": "cn-2022",
            "notifications": {"language": "zh", "alert_to": p + "li.ming",
                              "letters_to": p + "li.ming"},
        }, allow_unicode=True), encoding="utf-8")
        shutil.copy(SAMPLE / "calendar.yaml", folder / "calendar.yaml")
        entries.append({"id": office, "path": office, "parent": "group"})
    (config / "offices.yaml").write_text(yaml.safe_dump({"offices": entries}),
                                         encoding="utf-8")
    return ids


SUBJECTS = [  # (category, subject, content, weight): the sample office's mix, scaled up
    ("complaint", "工资未按时足额发放", "本人绩效工资比往月少发，请求核查补发。", 30),
    ("complaint", "社保缴费基数有误", "养老保险缴费基数低于实际工资，请核实。", 12),
    ("complaint", "家属区住房漏水", "住房屋顶漏水多次报修未果，请求维修。", 12),
    ("suggestion", "建议改善井下作业环境", "建议加强通风除尘，改善作业条件。", 8),
    ("complaint", "报销单据长期未处理", "出差报销单据提交两月未处理。", 8),
    ("complaint", "安全隐患举报", "工作面存在冒顶安全隐患，请求排查。", 10),
    ("complaint", "申请困难补助", "家庭困难，申请困难补助。", 10),
    ("accusation", "检举队长违章指挥", "队长多次违章指挥、冒险作业，要求查处。", 10),
]
CHANNELS = ["letter", "visit", "online", "phone"]


@dataclass
class Built:
    case: Case
    schedule: list[DueRung]
    due: dt.datetime | None


def _petition(rnd: random.Random, n: int, received: dt.datetime, prefix: str,
              earlier: dict[str, Any] | None) -> dict[str, Any]:
    category, subject, content, _ = rnd.choices(SUBJECTS, [s[3] for s in SUBJECTS])[0]
    who = earlier["petitioner"] if earlier else {
        "name": f"职工{n:06d}", "id_number": f"1426011980{n:08d}",
        "phone": f"139{n:08d}"}
    data: dict[str, Any] = {
        "petitioner": who, "channel": rnd.choice(CHANNELS), "category": category,
        "subject": subject, "content": content, "received_at": received.isoformat(),
        "headcount": rnd.choice([1] * 18 + [6, 12]), "concerns_unit": prefix + "mining1"}
    if category == "accusation":
        data["accused_persons"] = [prefix.replace("-", ".") + "zhang.hua"]
    return data


def generate(app: App, n: int, now: dt.datetime, seed: int = 7) -> Iterator[Built]:
    """``n`` petitions over the two years before ``now`` (see the module)."""
    rnd = random.Random(seed)
    mines = sorted(o for o in app.offices.offices if o != "group")
    start = now - dt.timedelta(days=730)
    times = sorted(start + dt.timedelta(seconds=rnd.uniform(0, 730 * 86400)) for _ in range(n))
    earlier: dict[str, list[dict[str, Any]]] = {}
    workload: dict[str, dict[str, int]] = {o: {} for o in mines}
    for i, received in enumerate(times):
        office_id = rnd.choice(mines)
        office = app.offices.office(office_id)
        prefix = office.org.office[: office.org.office.index("-") + 1]  # type: ignore[index]
        seen = earlier.setdefault(office_id, [])
        repeat = seen[-rnd.randrange(1, min(len(seen), 50) + 1)] if seen and \
            rnd.random() < 0.08 else None
        data = _petition(rnd, i, received, prefix, repeat)
        seen.append(data)
        petition = petition_from_mapping(data, received_at=received)
        case = Case.register(case_id=f"s-{i:07d}", registration_no=f"XF-S{i:07d}",
                             petition=petition, policy=office.policies.in_force(received.date()),
                             actor=prefix.replace("-", ".") + "qian.hui", now=received)
        case.office = office_id
        yield from _walk(app, case, rnd, now, workload[office_id], is_repeat=repeat is not None)


def _walk(app: App, case: Case, rnd: random.Random, now: dt.datetime,
          workload: dict[str, int], is_repeat: bool) -> Iterator[Built]:
    """Take ``case`` as far as its age allows; the built case (and a group review)."""
    office = app.office_of(case)
    rules = app.rules_for(case)
    t = case.registered_at + dt.timedelta(minutes=rnd.randint(5, 90))
    age = (now - case.registered_at).days
    decision = route(case.petition, office.routing, office.org, workload, is_repeat=is_repeat)
    case.assign(decision, actor="intake", now=t, rules=rules)
    workload[str(case.responder)] = workload.get(str(case.responder), 0) + 1
    extra: list[Built] = []

    def step(hours: float) -> dt.datetime:
        nonlocal t
        t = t + dt.timedelta(hours=hours)
        return t

    # how far it got: the young stop early, the old are done
    finish = age > 150 or rnd.random() < max(0.0, (age - 20) / 130)
    if age < 2 and rnd.random() < 0.5:
        return iter([_built(app, case, now)])
    who = str(case.responder)
    case.acknowledge(actor=who, now=step(rnd.uniform(0.5, 6)))
    if age < 5 and rnd.random() < 0.3:
        return iter([_built(app, case, now)])
    case.accept(actor=who, now=step(rnd.uniform(2, 48)), notice="受理告知书已送达")
    if case.stage is Stage.LEADER_PENDING:
        case.leader_accept(actor=str(case.leader), now=step(rnd.uniform(2, 30)))
    if rnd.random() < 0.05:
        unit = office.org.units[str(case.unit)]
        head = str(unit.head or who)  # the approver extends (a handler would ask)
        case.extend(Period(30, Unit.DAYS), reason="需补充调查", approver=head,
                    actor=head, now=step(24 * rnd.uniform(20, 50)), rules=rules)
    late = rnd.random() < 0.07
    handled = 24 * (rnd.uniform(62, 95) if late else rnd.uniform(5, 55))
    if not finish or t + dt.timedelta(hours=handled) > now - dt.timedelta(days=1):
        return iter([_built(app, case, now)])
    case.report_completion(summary="已核查处理", actor=who, now=step(handled), rules=rules)
    outcome = rnd.choice([Outcome.SUPPORT, Outcome.EXPLAIN, Outcome.SUPPORT])
    resolution = Resolution.RESOLVED if outcome is Outcome.SUPPORT else Resolution.EXPLAINED
    case.decide(outcome, summary="书面答复", actor=who, now=step(20), resolution=resolution)
    rating = rnd.choices([Rating.SATISFIED, Rating.BASICALLY_SATISFIED, Rating.NOT_SATISFIED],
                         [70, 18, 12])[0]
    if t + dt.timedelta(days=40) > now:
        return iter([_built(app, case, now)])
    case.rate(rating, actor=_clerk(case), now=step(24 * rnd.uniform(1, 6)), rules=rules)
    if rating is Rating.NOT_SATISFIED and rnd.random() < 0.4:
        extra = _reviewed(app, case, rnd, step(24 * rnd.uniform(1, 20)), now)
        if case.stage is not Stage.REVIEWED:
            return iter([_built(app, case, now), *extra])
        t = max(t, case.events[-1].at)
    # a review's or re-review's window lapses (30 days from the decision or opinion)
    wait = 24 if rating.content and case.stage is Stage.RATED else 24 * 40
    if t + dt.timedelta(hours=wait) < now - dt.timedelta(days=1):
        case.strike_off(actor=_clerk(case), now=step(wait), rules=rules, note="销号")
    return iter([_built(app, case, now), *extra])


def _clerk(case: Case) -> str:
    return case.office.replace("mine-", "m") + ".qian.hui" if case.office != "group" \
        else "sx.pan"


class _OneCase:
    """The little a referral needs of a unit of work: a place to add the new case."""

    def __init__(self) -> None:
        self.added: list[Case] = []
        self.cases = self

    def add(self, case: Case) -> None:
        self.added.append(case)


def _reviewed(app: App, case: Case, rnd: random.Random, t: dt.datetime,
              now: dt.datetime) -> list[Built]:
    """The petitioner asks for a review: the group's office decides it in its own case."""
    from domain.acts import Act

    sink = _OneCase()
    referred = refer_up(app, sink, case, Act.REQUEST_REVIEW, _clerk(case), t)  # type: ignore[arg-type]
    case.request_review(reason="对答复不满意", actor=_clerk(case), now=t,
                        rules=app.rules_for(case), referred=referred)
    review = sink.added[0]
    rules = app.rules_for(review)
    group = app.office_of(review)
    review.assign(route(review.petition, group.routing, group.org, {}), actor="intake",
                  now=t + dt.timedelta(hours=2), rules=rules)
    who = str(review.responder)
    at = t + dt.timedelta(hours=3)
    review.acknowledge(actor=who, now=at)
    review.accept(actor=who, now=at + dt.timedelta(hours=20), notice="复查受理")
    if review.stage is Stage.LEADER_PENDING:
        review.leader_accept(actor=str(review.leader), now=at + dt.timedelta(days=2))
    done = at + dt.timedelta(days=rnd.uniform(10, 28))
    if done < now - dt.timedelta(days=1):
        review.report_completion(summary="复查完毕", actor=who, now=done, rules=rules)
        review.decide(Outcome.EXPLAIN, summary="维持原答复", actor=who,
                      now=done + dt.timedelta(hours=4), resolution=Resolution.EXPLAINED)
        case.decide_review(Outcome.EXPLAIN, summary="维持原答复", actor=who,
                           now=done + dt.timedelta(hours=4), above=("group", review.id))
    return [_built(app, review, now)]


def _built(app: App, case: Case, now: dt.datetime) -> Built:
    rules = app.rules_for(case)
    case.measured = facts_of(case, rules)  # as the use cases' commit stores them
    if case.stage is Stage.CLOSED:
        return Built(case, [], None)
    return Built(case, case.schedule(rules, now), case.next_due(rules, now))


def write(engine: Engine, built: list[Built], batch: int = 2000) -> None:
    """Insert the rows of ``built`` as the repository writes them (their search rows
    too), ``batch`` cases a transaction; then sum the measures' tallies from them."""
    for at in range(0, len(built), batch):
        case_rows, event_rows, rung_rows, search_rows = [], [], [], []
        for b in built[at:at + batch]:
            c = b.case
            rows = chain_rows(c.id, c.events, 0, GENESIS)
            event_rows += rows
            case_rows.append({**codec.to_row(c), "audit_seq": rows[-1]["seq"],
                              "audit_head": rows[-1]["hash"], "version": 1,
                              "next_due_at": b.due})
            rung_rows += [{"case_id": c.id, "clock": d.clock, "rung": d.name,
                           "fire_at": d.fire_at} for d in b.schedule]
            search_rows.append(search.row_of(c))
        with engine.begin() as conn:
            conn.execute(insert(cases), case_rows)
            conn.execute(insert(audit_events), event_rows)
            conn.execute(insert(case_search), search_rows)
            if rung_rows:
                conn.execute(insert(rung_schedule), rung_rows)
    with engine.begin() as conn:  # the measures' tallies, which the repository keeps
        tallies.rebuild(conn)
