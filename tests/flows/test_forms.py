"""The lifecycle's forms and the CLI's verbs come from the domain's transition table: every
act a form offers is one the domain allows in a stage the form is shown in, and every act a
person may take there is on the form; every act has its CLI command."""

from __future__ import annotations

import typer.main

from cli.main import GROUPS, build
from domain.acts import Act, acts_in
from domain.stages import Action, Stage, allowed_actions, can
from flows.inputs import FORMS, STEP_INPUT, SYNC

# What no person takes through a form: the sweeper's moves and those with no act yet.
SYSTEM = {Action.FIRE_RUNG, Action.EXPIRE_RATING, Action.RECUSE, Action.OBJECT_ROUTING}


def _offered(form: type) -> set[str]:
    act = form.model_json_schema()["properties"]["act"]  # type: ignore[attr-defined]
    assert SYNC in act["enum"]  # every form takes "read the case again"
    return set(act["enum"]) - {SYNC}


def test_every_act_a_form_offers_is_allowed_in_a_stage_it_is_shown_in():
    for form, stages in FORMS.items():
        for value in _offered(form):
            act = Act(value)
            assert any(can(s, a) for s in stages for a in act.actions), (form, value)


def test_every_act_a_person_may_take_in_a_stage_is_on_its_form():
    for stage in Stage:
        person = [a for a in allowed_actions(stage) if a not in SYSTEM]
        if not person:
            assert stage not in STEP_INPUT, stage  # closed: no form
            continue
        offered = _offered(STEP_INPUT[stage])
        for action in person:
            assert any(action in Act(v).actions for v in offered), (stage, action)
        assert {a.value for a in acts_in([stage])} <= offered


def test_every_act_has_its_cli_command_and_nothing_else_acts():
    commands = set(typer.main.get_command(build(Act.ACK.command)).commands)  # type: ignore[attr-defined]
    assert {a.command for a in Act} <= commands
    assert {GROUPS[a.command] for a in Act} == {"cli.actions"}
