"""The one Jinja2 environment the HTML report and its SVG charts are rendered with.

Templates are package data (``ranker/templates``). Every template, whatever its name, is autoescaped:
card text, evidence text and writer identities reach the page only through ``{{ ... }}``, so they are
escaped where they are written out. Undefined names fail loudly (``StrictUndefined``) instead of
rendering as empty cells.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

TEMPLATE_PACKAGE = "ranker"
TEMPLATE_DIR = "templates"


@cache
def environment() -> Environment:
    """The report's Jinja2 environment (built once)."""
    return Environment(
        loader=PackageLoader(TEMPLATE_PACKAGE, TEMPLATE_DIR),
        # The report has no template whose output is not HTML or SVG, so escaping is on for every name
        # (default=True), not only for the listed extensions: a template added later cannot opt out by its name.
        autoescape=select_autoescape(("html", "svg", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, context: dict[str, Any]) -> str:
    """Render the template called ``template`` with ``context``.

    Raises:
        jinja2.UndefinedError: the template uses a name the context does not give.
    """
    return environment().get_template(template).render(context)


def render_macro(template: str, macro: str, *args: Any) -> Markup:
    """Call the macro ``macro`` of ``template`` (its output is escaped markup)."""
    result: Markup = getattr(environment().get_template(template).module, macro)(*args)
    return result
