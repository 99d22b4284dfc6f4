"""Sphinx extension: keep every page's console clean and its scripts local.

- sphinx-thebe (always loaded by Jupyter Book 1) registers its inline configuration script
  twice, so every page logs "Identifier 'THEBE_JS_URL' has already been declared", and the
  script names a CDN. This book has no thebe (launch buttons are off; widgets need a local
  kernel), so its scripts are dropped from every page.
- pydata-sphinx-theme starts from ``default_mode`` and logs "Got invalid theme mode" on a
  first visit when it is empty (as Jupyter Book leaves it); it is set to "light", the mode
  the figures are drawn for.
- docutils marks the bibliography's citations ``<div role="list" class="citation-list">``,
  but its children are links and entries, not list items, so screen readers are told of a
  list that is not there (axe: aria-required-children, critical); the role is dropped.
- The site's ``index.html`` (the root doc is ``book/intro``) is a bare ``<meta>`` redirect
  written by sphinx-external-toc when none exists. With no icon of its own, the browser asks the
  host's root for ``/favicon.ico``, outside a site served under a sub-path; written here first,
  it is a small page with the book's icon, its title and a link to follow.
"""

from __future__ import annotations

import html
import posixpath
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx


def _is_thebe(script: Any) -> bool:
    filename = getattr(script, "filename", None) or str(script)
    body = getattr(script, "attributes", {}).get("body", "")
    return "thebe" in filename or "THEBE_JS_URL" in body


def _fix_page(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]
    if not context.get("default_mode"):
        context["default_mode"] = "light"
    if "body" in context:
        context["body"] = context["body"].replace('<div role="list" class="citation-list">', '<div class="citation-list">')


def _write_index(app: Sphinx, exception: Exception | None) -> None:
    """The root redirect, before sphinx-external-toc writes its bare one (it skips an existing file)."""
    if exception is not None or app.builder.name != "html" or app.config.root_doc == "index":
        return
    target = f"{app.config.root_doc}.html"
    icon = app.config.html_favicon
    icon_link = f'<link rel="icon" href="_static/{posixpath.basename(icon)}">\n' if icon else ""
    title = html.escape(app.config.html_title or app.config.project)
    Path(app.outdir, "index.html").write_text(
        f'<!DOCTYPE html>\n<html lang="{app.config.language or "en"}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Refresh" content="0; url={target}">\n{icon_link}<title>{title}</title>\n</head>\n'
        f'<body><p><a href="{target}">{title}</a></p></body>\n</html>\n',
        encoding="utf-8",
    )


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _fix_page, priority=900)
    app.connect("build-finished", _write_index, priority=400)  # sphinx-external-toc's runs at 500
    return {"parallel_read_safe": True, "parallel_write_safe": True}
