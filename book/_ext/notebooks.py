"""Sphinx extension: offer every chapter as a Jupyter notebook that renders and runs outside the book.

For each page whose source is a MyST Markdown notebook, the HTML build writes
``_sources/<page>.ipynb``: the chapter read by jupytext, its Markdown converted by
``jupyter_markdown`` (equation numbers, references, folded solutions, images: as the HTML page
shows them), without outputs. Next to the notebooks it puts the ``backprop_lib`` wheel
(``libwheel``, cached per library state), and each notebook's first Markdown cell says how to
install it. sphinx-book-theme's download menu of every chapter lists both.

What Sphinx computes is taken from Sphinx itself, not recomputed:

- at ``doctree-read``, every cross-reference node (``pending_xref``) of such a page is wrapped in
  a marker node, keyed by its role's source text (``:eq:`ch2-a```) or, for a MyST link, by its
  order in the page;
- at ``doctree-resolved`` (when the HTML writer resolves the page), the markers hold what Sphinx
  and its extensions (math, std, bibtex, MyST) resolved each reference to: its text and target.
  These are recorded with the page's equation numbers (as ``sphinx.util.math`` numbers them for
  the HTML) and figure numbers, the markers are removed (the HTML is unchanged), and the notebook
  is written.

The records of all pages are saved as ``<doctreedir>/notebooks-index.json``; ``make notebooks``
(``scripts/make_notebooks.py``) converts the same sources with them, so both agree with the HTML.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

from bookext import jupyter_markdown as jm
from bookext import libwheel

INDEX_NAME = "notebooks-index.json"
MARK = "nb-xref"
logger = logging.getLogger(__name__)


def is_myst_notebook(path: Path) -> bool:
    """True for a Markdown file whose front matter declares a jupytext MyST notebook."""
    if path.suffix != ".md" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8")[:600]
    return head.startswith("---") and "format_name: myst" in head


def _is_notebook_page(app: Sphinx, docname: str) -> bool:
    return docname in app.env.all_docs and is_myst_notebook(Path(app.env.doc2path(docname)))


def _in_output(node: nodes.Node) -> bool:
    """Inside a code cell's output (myst-nb): not part of the Markdown source."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.Element) and "cell_output" in parent.get("classes", []):
            return True
        parent = parent.parent
    return False


# -- reading: mark the references ---------------------------------------------------------------------


def _mark_references(app: Sphinx, doctree: nodes.document) -> None:
    if not is_myst_notebook(Path(app.env.doc2path(app.env.docname))):
        return
    links = 0
    for xref in list(doctree.findall(addnodes.pending_xref)):
        if _in_output(xref):
            continue
        if xref.get("reftype") == "myst":
            target = xref.get("reftarget", "") + (f"#{xref['reftargetid']}" if xref.get("reftargetid") else "")
            key, kind = f"link:{links}:{target}", "link"
            links += 1
        elif xref.rawsource:
            key, kind = xref.rawsource, "role"
        else:
            continue
        marker = nodes.inline(classes=[MARK], nbkey=key, nbkind=kind)
        xref.replace_self(marker)
        marker += xref


# -- resolving: record what Sphinx made of them ---------------------------------------------------------


def _markdown(node: nodes.Node) -> str:
    """Inline Markdown for the text of a resolved node (math stays math, code stays code)."""
    if isinstance(node, nodes.Text):
        return jm._md_escape(str(node))
    if isinstance(node, nodes.math):
        return f"${node.astext()}$"
    if isinstance(node, nodes.literal):
        return f"`{node.astext()}`"
    inner = "".join(_markdown(child) for child in node.children)
    if isinstance(node, nodes.emphasis):
        return f"*{inner}*"
    if isinstance(node, nodes.strong):
        return f"**{inner}**"
    return inner


def _site_path(page_html: str, node: nodes.Element) -> dict[str, str]:
    """The target of a resolved reference: a path from the site root, or an external URL."""
    uri = node.get("refuri")
    if uri is None and node.get("refid"):
        return {"href": f"{page_html}#{node['refid']}"}
    uri = uri or ""
    if jm._SCHEME.match(uri):
        return {"url": uri}
    path, _, anchor = uri.partition("#")
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_html), path)) if path else page_html
    return {"href": target + (f"#{anchor}" if anchor else "")}


def _segments(page_html: str, node: nodes.Node) -> list[jm.Segment]:
    """A resolved reference as Markdown segments, each with its link target if it has one."""
    if isinstance(node, nodes.reference):
        return [{"md": _markdown(node), **_site_path(page_html, node)}]
    if isinstance(node, nodes.Text | nodes.math | nodes.literal) or not node.children:
        return [{"md": _markdown(node)}]
    out: list[jm.Segment] = []
    for child in node.children:
        out.extend(_segments(page_html, child))
    merged: list[jm.Segment] = []  # join neighbouring plain-text pieces
    for seg in out:
        if merged and len(seg) == 1 and len(merged[-1]) == 1:
            merged[-1] = {"md": merged[-1]["md"] + seg["md"]}
        else:
            merged.append(seg)
    return merged


def _record_page(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    env = app.env
    html_page = app.builder.get_target_uri(docname)
    page = jm.PageRefs(docname=docname, html=html_page)
    source = Path(env.doc2path(docname))
    page.source_sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    page.title = env.titles[docname].astext() if docname in env.titles else ""
    page.number = ".".join(map(str, env.toc_secnumbers.get(docname, {}).get("", ())))

    for marker in list(doctree.findall(lambda n: isinstance(n, nodes.inline) and MARK in n.get("classes", []))):
        segments = [seg for child in marker.children for seg in _segments(html_page, child)]
        if marker["nbkind"] == "role":
            page.roles.setdefault(marker["nbkey"], segments)
        else:
            page.links.append({"target": marker["nbkey"].split(":", 2)[2], "segments": segments})

    # equation numbers as the HTML writer prints them (sphinx.util.math.get_node_equation_number)
    writer = SimpleNamespace(builder=SimpleNamespace(config=app.config, name=app.builder.name,
                                                     fignumbers=env.toc_fignumbers.get(docname, {})),
                             docnames=[docname])
    for node in doctree.findall(nodes.math_block):
        if _in_output(node) or not node.get("label") or node.get("nowrap") or not node.get("number"):
            continue
        page.equations[node["label"]] = get_node_equation_number(writer, node)
    if app.config.math_number_all:
        raise ExtensionError("notebooks: math_number_all numbers unlabelled equations, which the conversion does not tag")

    fig_format = app.config.numfig_format.get("figure", "Fig. %s")
    for figure in doctree.findall(nodes.figure):
        if _in_output(figure) or not figure.get("ids") or not figure.get("names"):
            continue
        number = env.toc_fignumbers.get(docname, {}).get("figure", {}).get(figure["ids"][0])
        if number:
            page.figures[figure["names"][0]] = fig_format % ".".join(map(str, number))
    app.notebook_pages[docname] = page  # type: ignore[attr-defined]


def _unmark(doctree: nodes.document) -> None:
    for marker in list(doctree.findall(lambda n: isinstance(n, nodes.inline) and MARK in n.get("classes", []))):
        marker.replace_self(marker.children)


def _on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    try:
        if app.builder.name == "html" and _is_notebook_page(app, docname):
            _record_page(app, doctree, docname)
            _write_notebook(app, docname)
    finally:
        _unmark(doctree)


# -- writing ----------------------------------------------------------------------------------------------


def site_preamble(page: jm.PageRefs, wheel: str | None) -> str:
    """The install note of a notebook downloaded from the site (the wheel lies beside it)."""
    chapter = f"chapter {page.number} of " if page.number else ""
    if wheel is None:  # a book built outside the project (no pyproject.toml): no wheel to offer
        return (f"> **To run this notebook** ({chapter}*Backprop, Derived and Checked*) you need Python 3.11 or "
                f"later with Jupyter, numpy, matplotlib, ipywidgets and the book's library `backprop_lib`.")
    return (
        f"> **To run this notebook** ({chapter}*Backprop, Derived and Checked*, made from "
        f"[its page in the book]({posixpath.basename(page.html)})): you need Python 3.11 or later with Jupyter, "
        f"and the book's library `backprop_lib`. Download [{wheel}]({wheel}) from the book's site (it lies "
        f"beside this notebook: the download menu of every chapter page offers it) and install it with the "
        f"extra `book` (numpy, matplotlib and ipywidgets, which the chapter imports):\n"
        f">\n"
        f"> ```bash\n"
        f"> pip install \"{wheel}[book]\"\n"
        f"> ```\n"
        f">\n"
        f"> Equation numbers and links refer to the HTML book; solutions are folded (click to open)."
    )


def _notebook_href(app: Sphinx, docname: str):
    base = getattr(app.config, "html_baseurl", "")
    return jm.absolute_href(base) if base else jm.relative_href(f"_sources/{docname}.ipynb")


def _write_notebook(app: Sphinx, docname: str) -> None:
    page = app.notebook_pages[docname]  # type: ignore[attr-defined]
    source = Path(app.env.doc2path(docname))
    href = _notebook_href(app, docname)
    # the page link in the preamble is relative to the notebook's folder like the others
    preamble = site_preamble(page, app.notebook_wheel_name).replace(  # type: ignore[attr-defined]
        f"]({posixpath.basename(page.html)})", f"]({href(page.html)})"
    )
    try:
        nb = jm.convert_notebook(jm.read_myst(source), page, href, app.config.myst_enable_extensions,
                                 source_dir=source.parent, preamble=preamble)
    except jm.ConversionError as err:
        raise ExtensionError(f"notebooks: {err}") from err
    target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


def _offer_notebook(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if doctree is None or not _is_notebook_page(app, pagename):
        return
    context["ipynb_source"] = f"{pagename}.ipynb"


def _offer_wheel(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """Add the wheel to the download menu of a chapter page (after sphinx-book-theme built it)."""
    wheel = app.notebook_wheel_name  # type: ignore[attr-defined]
    if not context.get("ipynb_source") or wheel is None:
        return
    folder = posixpath.dirname(pagename)
    url = f"{context['pathto']('_sources', 1)}/{folder + '/' if folder else ''}{wheel}"
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            buttons = group["buttons"]
            at = next((i + 1 for i, b in enumerate(buttons) if b.get("label") == "download-notebook-button"), 0)
            buttons.insert(at, {"type": "link", "url": url, "text": ".whl", "icon": "fas fa-box",
                                "tooltip": f"Download {wheel}, the library the notebook imports",
                                "label": "download-wheel-button"})


def _builder_inited(app: Sphinx) -> None:
    """Build (or find cached) the wheel of the project the book is built from: its pyproject.toml
    is beside _config.yml. A copy of the book without it (as the build tests make) offers none."""
    app.notebook_pages = {}  # type: ignore[attr-defined]
    app.notebook_wheel = app.notebook_wheel_name = None  # type: ignore[attr-defined]
    project = Path(app.srcdir)
    if app.builder.name != "html" or not (project / "pyproject.toml").is_file():
        return
    try:
        wheel = libwheel.library_wheel(project, Path(app.outdir).parent / ".wheels")
    except RuntimeError as err:
        raise ExtensionError(str(err)) from err
    app.notebook_wheel, app.notebook_wheel_name = wheel, wheel.name  # type: ignore[attr-defined]


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html":
        return
    env = app.env
    index_path = Path(app.doctreedir) / INDEX_NAME
    index: dict[str, Any] = {}
    if index_path.is_file():
        index = json.loads(index_path.read_text(encoding="utf-8"))
    pages = {name: data for name, data in index.get("pages", {}).items() if _is_notebook_page(app, name)}
    pages.update({name: page.to_json() for name, page in app.notebook_pages.items()})  # type: ignore[attr-defined]
    missing = [name for name in env.all_docs if _is_notebook_page(app, name) and name not in pages]
    if missing:
        raise ExtensionError(f"notebooks: no record of {missing}; build with --all")
    index = {"extensions": list(app.config.myst_enable_extensions), "html_baseurl": app.config.html_baseurl,
             "wheel": app.notebook_wheel_name, "pages": dict(sorted(pages.items()))}  # type: ignore[attr-defined]
    index_path.write_text(json.dumps(index, indent=1, ensure_ascii=False), encoding="utf-8")
    # the wheel beside the notebooks
    if app.notebook_wheel is None:  # type: ignore[attr-defined]
        return
    wheel = Path(app.notebook_wheel)  # type: ignore[attr-defined]
    for folder in sorted({posixpath.dirname(name) for name in pages}):
        target = Path(app.outdir) / "_sources" / folder / wheel.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (target.is_file() and target.read_bytes() == wheel.read_bytes()):
            shutil.copy2(wheel, target)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _builder_inited)
    app.connect("doctree-read", _mark_references)
    app.connect("doctree-resolved", _on_doctree_resolved)
    # before sphinx-book-theme's add_header_buttons (priority 501), which reads ipynb_source
    app.connect("html-page-context", _offer_notebook, priority=400)
    app.connect("html-page-context", _offer_wheel, priority=502)
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
