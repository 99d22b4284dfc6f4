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
- myst-nb's hide-input toggles read ``<summary aria-label="Toggle hidden content"><p>Show code
  cell source</p>...``: a ``p`` is not allowed in a ``summary`` (the Nu checker's one error on
  these pages), and the label hides the visible words from screen-reader and voice users (axe:
  label-content-name-mismatch). The paragraphs become spans (book.css keeps their look) and the
  label goes.
- A table with a header row gets, in each cell, the header's words (``div.td-label``, hidden from
  screen readers, who have the header) and the cell's content in a ``div.td-value``: book.css
  stacks such a table on a phone, one card per row, each value under its header's name (a
  gradient check's verdict and errors visible at 390 px). A table's scroll box
  (``pst-scrollable-table-container``) is a labelled region (the theme makes it focusable when
  it scrolls).
- When the build ends, every page of the site (not ``lite/``): each content image gets its
  ``width`` and ``height`` from the PNG (no layout shift when it loads) and a link to itself
  (``a.figure-open``: book.js opens it full size on a tap; without JavaScript the browser shows
  the file); the theme's ``fontawesome.js`` (1.45 MB, which redraws the icons the theme's
  stylesheet already draws with its icon font) is not loaded, and neither are Sphinx's search
  scripts and index on pages other than the search page (the theme loads them for its "search as
  you type", which is off). The theme's source maps (``*.map``) and ``fontawesome.js`` are not
  kept in ``_static``.
"""

from __future__ import annotations

import html
import posixpath
import re
import struct
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
        body = context["body"].replace('<div role="list" class="citation-list">', '<div class="citation-list">')
        body = SUMMARY.sub(_fix_summary, body)
        body = TABLE.sub(_label_cells, body)
        context["body"] = body.replace('<div class="pst-scrollable-table-container">', SCROLL_BOX)


# myst-nb's toggle: <summary aria-label="Toggle hidden content"><p class="collapsed admonition-title">...</summary>
SUMMARY = re.compile(r"<summary\b([^>]*)>(.*?)</summary>", re.S)
TABLE = re.compile(r"<table\b[^>]*>.*?</table>", re.S)
THEAD = re.compile(r"<thead\b[^>]*>(.*?)</thead>", re.S)
HEADER_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)
ROW = re.compile(r"(<tr\b[^>]*>)(.*?)(</tr>)", re.S)
CELL = re.compile(r"(<(t[dh])\b[^>]*>)(.*?)(</\2>)", re.S)  # a body row's cells, a row header among them
SCROLL_BOX = '<div class="pst-scrollable-table-container" role="region" aria-label="table">'


def _fix_summary(match: re.Match) -> str:
    attributes = match.group(1).replace(' aria-label="Toggle hidden content"', "")
    inner = re.sub(r"<p\b", "<span", match.group(2)).replace("</p>", "</span>")
    return f"<summary{attributes}>{inner}</summary>"


def _label_cells(match: re.Match) -> str:
    """Each body cell of a table with a header row: its header's words (for the stacked layout) and its content."""
    table = match.group(0)
    head = THEAD.search(table)
    if head is None or "td-label" in table:
        return table
    names = [name.strip() for name in HEADER_CELL.findall(head.group(1))]
    # the header cell's content without its paragraph (a label is a line, not a block)
    names = [re.sub(r"</?p\b[^>]*>", "", name).strip() for name in names]
    start, end = head.end(), len(table)

    def row(m: re.Match) -> str:
        cells = iter(names)

        def cell(c: re.Match) -> str:
            name = next(cells, "")
            label = f'<div class="td-label" aria-hidden="true">{name}</div>' if name else ""
            return f'{c.group(1)}{label}<div class="td-value">{c.group(3)}</div>{c.group(4)}'

        return m.group(1) + CELL.sub(cell, m.group(2)) + m.group(3)

    return table[:start] + ROW.sub(row, table[start:end])


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


SCRIPT = re.compile(r'\s*<script\b[^>]*\bsrc="(?P<src>[^"]*)"[^>]*></script>')
IMG = re.compile(r"<img\b[^>]*>")
IMAGES_DIR = "_images/"
LINK_BEFORE = re.compile(r'<a class="figure-open" href="[^"]*">\s*$')


def png_size(path: Path) -> tuple[int, int] | None:
    """Width and height of a PNG file, from its header; None for another format."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) == 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    return None


def _unloaded(src: str, search_page: bool) -> bool:
    name = src.split("?")[0]
    if name.endswith("_static/scripts/fontawesome.js"):
        return True
    return not search_page and name.endswith(("_static/searchtools.js", "_static/language_data.js", "searchindex.js"))


def fix_built_page(text: str, page: Path, outdir: Path) -> str:
    """What a written page needs that only the finished site knows (see the module's docstring)."""
    search_page = page.name == "search.html"
    text = SCRIPT.sub(lambda m: "" if _unloaded(m.group("src"), search_page) else m.group(0), text)
    out, last = [], 0
    for m in IMG.finditer(text):
        tag = m.group(0)
        src = re.search(r'\ssrc="([^"]*)"', tag)
        if src is None or IMAGES_DIR not in src.group(1):
            continue
        file = (page.parent / src.group(1)).resolve()
        size = png_size(file) if file.is_file() else None
        if size is not None and " width=" not in tag:
            tag = tag[:-2].rstrip() + f' width="{size[0]}" height="{size[1]}" />' if tag.endswith("/>") else \
                tag[:-1] + f' width="{size[0]}" height="{size[1]}">'
        before = text[last:m.start()]
        if not LINK_BEFORE.search(before):
            tag = f'<a class="figure-open" href="{src.group(1)}">{tag}</a>'
        out += [before, tag]
        last = m.end()
    return "".join(out) + text[last:]


def _fix_built_site(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    folders = [p for p in outdir.iterdir() if p.is_dir() and p.name not in ("lite", "_static")]
    for page in [*outdir.glob("*.html"), *(page for folder in folders for page in folder.rglob("*.html"))]:
        text = page.read_text(encoding="utf-8")
        fixed = fix_built_page(text, page, outdir)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")
    static = outdir / "_static"
    for unused in [*static.rglob("*.map"), static / "scripts" / "fontawesome.js",
                   static / "scripts" / "fontawesome.js.LICENSE.txt"]:
        unused.unlink(missing_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _fix_page, priority=900)
    app.connect("build-finished", _fix_built_site, priority=300)
    app.connect("build-finished", _write_index, priority=400)  # sphinx-external-toc's runs at 500
    return {"parallel_read_safe": True, "parallel_write_safe": True}
