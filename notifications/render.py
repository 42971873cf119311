"""Jinja2 templates: a plain-text body per kind and language, and an HTML layout.

``<lang>/<kind>.txt`` holds two blocks, ``subject`` and ``body``. The HTML part is the
layout ``_layout.html`` around the text body, autoescaped; a unit may instead give
``<lang>/<kind>.html`` (autoescaped too). A unit overrides any file by putting its own under
``templates/`` in its configuration folder. Templates run sandboxed, and petition text is
only ever data: ``{{ 7*7 }}`` in a complaint stays as typed, ``<script>`` is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateNotFound,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from domain.errors import ConfigError


@dataclass(frozen=True)
class Content:
    subject: str
    text: str
    html: str


class Renderer:
    def __init__(self, language: str = "zh", override_dir: Path | None = None) -> None:
        loaders: list[BaseLoader] = []
        if override_dir is not None and override_dir.is_dir():
            loaders.append(FileSystemLoader(str(override_dir)))
        loaders.append(PackageLoader("notifications", "templates"))
        self.language = language
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders), undefined=StrictUndefined, trim_blocks=True,
            lstrip_blocks=True, keep_trailing_newline=True,
            autoescape=select_autoescape(enabled_extensions=("html",),
                                         default_for_string=False, default=False))

    def render(self, kind: str, ctx: dict[str, Any]) -> Content:
        name = f"{self.language}/{kind}.txt"
        try:
            template = self.env.get_template(name)
        except TemplateNotFound:
            raise ConfigError(f"no template for message kind '{kind}'", source=name) from None
        if "subject" not in template.blocks or "body" not in template.blocks:
            raise ConfigError("a message template defines the blocks 'subject' and 'body'",
                              source=name)
        run = template.new_context(ctx)
        subject = " ".join("".join(template.blocks["subject"](run)).split())
        text = "".join(template.blocks["body"](run)).strip() + "\n"
        try:
            html_t = self.env.get_template(f"{self.language}/{kind}.html")
            html = html_t.render(ctx)
        except TemplateNotFound:
            html = self.env.get_template("_layout.html").render(
                {**ctx, "subject": subject, "language": self.language,
                 "paragraphs": text.strip().split("\n\n")})
        return Content(subject, text, html)
