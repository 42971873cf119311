"""Who may reach the workplace and the API: ``petitions user set-password ID``,
``petitions user unlock ID`` and ``petitions token create|revoke|list``. Run by the
server's operator; every change is journaled with the operating-system user
(``cli:<user>``)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli.common import Format, check_format, emit, out, reports_errors, say, table, via
from cli.home import app as make_app
from domain.errors import ConfigError
from services.login_gate import unlock
from services.schema import migrated
from services.users import create_token, login_rows, revoke_token, set_password, token_rows


def register(app: typer.Typer) -> None:
    user = typer.Typer(help="People's logins to the office workplace.", no_args_is_help=True)
    user.command("set-password")(set_password_cmd)
    user.command("unlock")(unlock_cmd)
    user.command("list")(user_list_cmd)
    app.add_typer(user, name="user")
    token = typer.Typer(help="API tokens for other systems (/api/v1).", no_args_is_help=True)
    token.command("create")(token_create_cmd)
    token.command("revoke")(token_revoke_cmd)
    token.command("list")(token_list_cmd)
    app.add_typer(token, name="token")


@reports_errors
def set_password_cmd(
        person: Annotated[str, typer.Argument(help="The person's id in the org chart.")],
        password_stdin: Annotated[bool, typer.Option(
            "--password-stdin", help="Read the password from standard input (scripts).")
        ] = False) -> None:
    """Set a person's password for the office workplace (stored as an argon2 hash; at
    least 10 characters). Asks for it twice unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("new password", hide_input=True,
                                confirmation_prompt="again")
    if not password:
        raise ConfigError("no password given", field="password")
    set_password(migrated(make_app()), person, password, actor=via())
    say(f"{person} can log in to the office workplace")


@reports_errors
def unlock_cmd(person: Annotated[str, typer.Argument(
        help="The person's id in the org chart.")]) -> None:
    """Unlock a login locked by 100 wrong passwords in a row (and clear its count of wrong
    passwords), once the person is known to hold their password. Journaled."""
    was = unlock(migrated(make_app()), person, actor=via())
    say(f"{person} unlocked: they can log in again" if was
        else f"{person} was not locked; their count of wrong passwords is cleared")


@reports_errors
def token_create_cmd(
        name: Annotated[str, typer.Argument(help="The calling system, e.g. hotline-12345.")],
        acts_as: Annotated[str, typer.Option("--as", help="The person the token acts as: "
                                             "it may do and see what they may.")]) -> None:
    """Make an API token. Its secret is printed once, here: give it to the calling system
    as `Authorization: Bearer <token>`. Only its hash is kept."""
    secret = create_token(migrated(make_app()), name, acts_as, actor=via())
    say(secret)
    out.print(f"token {name} acts as {acts_as}; it is shown only now", style="dim",
              highlight=False, markup=False)


@reports_errors
def token_revoke_cmd(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token: its next request is refused (401)."""
    revoke_token(migrated(make_app()), name, actor=via())
    say(f"token {name} revoked")


@reports_errors
def user_list_cmd(fmt: Format = "table") -> None:
    """Everyone who can log in: when the password was set, wrong passwords in a row, the
    last one, and whether the login is locked (never a hash)."""
    fmt = check_format(fmt)
    rows = login_rows(migrated(make_app()))
    if fmt != "table":
        emit(rows, fmt)
        return
    out.print(table(rows, ("person", "name", "password_set", "wrong_in_a_row", "last_wrong",
                           "locked_since")))


@reports_errors
def token_list_cmd(fmt: Format = "table") -> None:
    """The API tokens, whom each acts as, and which are revoked (never their secrets)."""
    fmt = check_format(fmt)
    rows = token_rows(migrated(make_app()))
    if fmt != "table":
        emit(rows, fmt)
        return
    out.print(table(rows, ("name", "acts_as", "created_at", "revoked_at")))
