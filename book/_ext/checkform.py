"""Sphinx extension: a "Check your derivation" form on each homework chapter's page.

The reader picks a parameter, types the gradient they derived (LaTeX or NumPy) and presses
Check; ``backprop_lib.check.check_formula`` answers whether it is right and names the slip. It
runs in the reader's browser: ``_static/checkform.js`` starts ``_static/checkform-worker.js`` (a
Web Worker) when the formula box first takes focus (or on the first Check), which loads the site's own Pyodide (``lite/static/pyodide/``,
see ``lite_assets``), its NumPy, and two wheels this extension puts in ``_static/checker/``:
the book's ``backprop_lib`` (``libwheel``, the one the notebooks offer) and ``lark`` (the
parser the checker's grammar runs on), pinned by version and PyPI SHA-256 in
``lite_assets.BROWSER_WHEELS``, fetched once with ``pip download --require-hashes`` into the lite
cache outside the clone and checked against the pin again on every build. The page gives the
worker each wheel's SHA-256 as a fetch ``integrity``, so the browser refuses a wheel that is not
the one this build wrote. Nothing is requested from another host.

Where the form goes, on the page of every model registered in ``backprop_lib.models`` (a
model's ``chapter`` is its page's docname):

- at each ``{derivation-check}`` directive of the page (argument: the parameter selected at
  first; option ``:model:`` for a page that is no model's chapter);
- else, at the end of the page, in a section "Check your derivation" of its own, added while
  the page is read so that the page's contents and section numbers include it.

Only the ``html`` builder draws the form. Every other output (the single page the PDF is
printed from, LaTeX, text) shows the node's children instead: a paragraph saying how to run
the same check in a notebook; the notebooks made from the chapters say the same
(:func:`notebook_markdown`, called by ``jupyter_markdown`` for the directive). Without JavaScript, or before the script has run, the form says
what it will do; on a build without the Pyodide runtime (``lite`` off) it says that the
in-browser check is not part of this build and gives the notebook call.
"""

from __future__ import annotations

import base64
import hashlib
import html
import posixpath
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

from bookext import lite_assets

# The parser of the checker's grammar (name, version, sha256 of the PyPI file): the pin of the wheels
# the in-browser notebooks install, so that both load the same lark.
LARK = next(pin for pin in lite_assets.BROWSER_WHEELS if pin[0] == "lark")
CHECKER_DIR = "_static/checker"  # the wheels the worker unpacks, in the HTML output
PYODIDE_DIR = "lite/static/pyodide/"  # where lite.py serves the runtime (its PYODIDE_DIR; checked after the build)
SECTION_TITLE = "Check your derivation"
NOTEBOOK_IMPORT = "from backprop_lib.check import check_formula"


# -- the models -----------------------------------------------------------------------------------------


def registry() -> dict[str, Any]:
    """The registered models by name (``backprop_lib.models.MODELS``)."""
    from backprop_lib.models import MODELS

    return dict(MODELS)


def chapter_models() -> dict[str, str]:
    """Docname of a chapter -> the name of its model."""
    out: dict[str, str] = {}
    for name, model in registry().items():
        if model.chapter in out:
            raise ExtensionError(f"checkform: {model.chapter} is the chapter of {out[model.chapter]} and {name}")
        out[model.chapter] = name
    return out


def symbol_rows(model_name: str) -> list[tuple[str, tuple[str, ...], str, str]]:
    """The names a formula may use, (name, LaTeX spellings, shape, meaning), as the checker lists them
    (``backprop_lib.check.symbols``)."""
    from backprop_lib.check import symbols

    return [(name, tuple(filter(None, latex.split(", "))), shape, meaning)
            for name, latex, shape, meaning in symbols(model_name).rows]


def notebook_call(model: str, param: str, formula: str = "…") -> str:
    return f'check_formula("{model}", "{param}", r"{formula}")'


# -- the directive and its node ----------------------------------------------------------------------


class derivation_check(nodes.General, nodes.Element):  # noqa: N801 (docutils names nodes in lower case)
    """Where a form goes: ``model``, ``param`` (selected at first), ``index`` (its number on the page)."""


def _fallback(model: str, param: str) -> nodes.paragraph:
    """What every output but the HTML page shows: the same check, in a notebook."""
    para = nodes.paragraph()
    para += nodes.Text("The book's web page checks a gradient you derived here, in LaTeX or NumPy. In a notebook: ")
    para += nodes.literal(text=NOTEBOOK_IMPORT)
    para += nodes.Text(", then ")
    para += nodes.literal(text=notebook_call(model, param))
    para += nodes.Text(".")
    return para


def _make_node(model_name: str, param: str | None, where: str) -> derivation_check:
    model = registry().get(model_name)
    if model is None:
        raise ExtensionError(f"checkform: {where}: no model {model_name!r} (registered: {sorted(registry())})")
    if param is not None and param not in model.params:
        raise ExtensionError(f"checkform: {where}: {model_name} has no parameter {param!r} ({', '.join(model.params)})")
    node = derivation_check(model=model_name, param=param or model.params[0])
    node += _fallback(model_name, node["param"])
    return node


def notebook_markdown(docname: str, param: str, options: dict[str, str]) -> str:
    """A ``{derivation-check}`` in the downloaded and in-browser notebooks (``jupyter_markdown``): the
    checker's call, which runs in the notebook itself."""
    model = options.get("model") or chapter_models().get(docname)
    if model is None:
        raise ValueError(f"{{derivation-check}} on {docname}, which is no model's chapter: give :model:")
    node = _make_node(model, param or None, docname)
    return (f"In this notebook the form of the book's page is a call: run `{NOTEBOOK_IMPORT}`, then "
            f"`{notebook_call(model, node['param'])}` with your formula, LaTeX or NumPy, in place of `…`.")


class DerivationCheck(SphinxDirective):
    """``{derivation-check} [parameter]``, option ``:model:`` (default: the page's model)."""

    optional_arguments = 1
    option_spec = {"model": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        model = self.options.get("model") or chapter_models().get(self.env.docname)
        if model is None:
            raise self.error(f"{{derivation-check}} on {self.env.docname}, which is no model's chapter: give :model:")
        param = self.arguments[0] if self.arguments else None
        try:
            return [_make_node(model, param, f"{self.env.docname}:{self.lineno}")]
        except ExtensionError as err:
            raise self.error(str(err)) from err


def _add_section(app: Sphinx, doctree: nodes.document) -> None:
    """A page of a model without a {derivation-check}: the form in a last section of its own."""
    docname = app.env.docname
    model = chapter_models().get(docname)
    forms = list(doctree.findall(derivation_check))
    for index, node in enumerate(forms):
        node["index"] = index
    if model is None or forms:
        return
    top = next(iter(doctree.findall(nodes.section)), None)
    if top is None:
        return
    section = nodes.section(names=[nodes.fully_normalize_name(SECTION_TITLE)])
    section += nodes.title(text=SECTION_TITLE)
    node = _make_node(model, None, docname)
    node["index"] = 0
    section += node
    top += section
    doctree.note_implicit_target(section, section)


# -- the form -------------------------------------------------------------------------------------------


def runtime_on(app: Sphinx) -> bool:
    """Whether this build serves the Pyodide runtime in :data:`PYODIDE_DIR`: the ``lite`` extension's
    ``runtime_status`` (the module Sphinx loaded, not a second import of it)."""
    lite = app.extensions.get("lite")
    return lite is not None and bool(lite.module.runtime_status(app).on)


def _rel(page_html: str, target: str) -> str:
    out = posixpath.relpath(target, posixpath.dirname(page_html) or ".")
    return out + "/" if target.endswith("/") and not out.endswith("/") else out


def _integrity(path: Path) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


def form_html(app: Sphinx, docname: str, model_name: str, selected: str, index: int) -> str:
    """The form (the HTML builder's rendering of a ``derivation_check`` node)."""
    model = registry()[model_name]
    page = app.builder.get_target_uri(docname)
    e = html.escape
    uid = f"dc-{index}"
    wheels: list[tuple[str, str]] = getattr(app, "checkform_wheels", [])
    on = runtime_on(app) and bool(wheels)
    attrs = {"data-model": model_name, "data-runtime": "on" if on else "off"}
    if on:
        attrs["data-pyodide"] = _rel(page, PYODIDE_DIR)
        attrs["data-worker"] = _rel(page, "_static/checkform-worker.js")
        attrs["data-wheels"] = " ".join(f"{_rel(page, f'{CHECKER_DIR}/{name}')}#{sri}" for name, sri in wheels)
    rows = {row[0]: row for row in symbol_rows(model_name)}
    options = []
    for name in model.params:  # "W2 (W_2), shape (4, 3)": short enough for a phone's select
        _, spellings, shape, _ = rows.get(name, (name, (), "", ""))
        latex = next((f" ({s})" for s in spellings if s != name), "")
        chosen = " selected" if name == selected else ""
        options.append(f'<option value="{e(name)}"{chosen}>{e(name)}{e(latex)}{e(", shape " + shape) if shape else ""}'
                       f'</option>')
    names = []
    for name, spellings, shape, meaning in rows.values():
        latex = ", ".join(f"<code>{e(s)}</code>" for s in spellings if s != name)
        names.append(f"<li><code>{e(name)}</code>{' (' + latex + ')' if latex else ''}"
                     f"{', ' + e(shape if shape != '()' else 'a number') if shape else ''}: {e(meaning)}</li>")
    call = e(notebook_call(model_name, selected))
    if on:
        waiting = (f"The check runs Python in this page (Pyodide, from this site, loaded when you first type a formula). "
                   f"It needs JavaScript; in a notebook the same check is <code>{e(NOTEBOOK_IMPORT)}</code>, "
                   f"then <code>{call}</code>.")
    else:
        waiting = (f"The in-browser checker is not part of this build of the book (it has no Pyodide runtime). "
                   f"Run the same check in a notebook: <code>{e(NOTEBOOK_IMPORT)}</code>, then <code>{call}</code>.")
    data = " ".join(f'{k}="{e(v)}"' for k, v in attrs.items())
    return f"""<div class="derivation-check mathjax_ignore" {data}>
<form class="dc-form" action="#" aria-label="{e(SECTION_TITLE)}" novalidate>
<p class="dc-intro">Pick a parameter and type the gradient of the loss you derived for it, in LaTeX
or NumPy, with the names below. <em>Check</em> compares it with the numerical gradient on random
batches and, when it is wrong, names the slip: a sign, a factor such as 1/B, a transpose, a missing
sum over the batch, a shape.</p>
<div class="dc-field"><label for="{uid}-param">parameter</label>
<select id="{uid}-param" name="param">{''.join(options)}</select></div>
<div class="dc-field"><label for="{uid}-formula">formula</label>
<input id="{uid}-formula" name="formula" type="text" autocomplete="off" autocapitalize="off" spellcheck="false"
 aria-describedby="{uid}-hint" placeholder="LaTeX or NumPy"></div>
<p class="dc-hint" id="{uid}-hint">LaTeX as you write it on paper (<code>^T</code>, <code>\\frac{{…}}{{…}}</code>,
<code>\\odot</code>) or NumPy (<code>.T</code>, <code>@</code>, <code>.sum(axis=0)</code>).</p>
<div class="dc-preview" aria-hidden="true"></div>
<details class="dc-names"><summary>Names a formula may use</summary><ul>{''.join(names)}</ul></details>
<button type="submit" class="dc-check" disabled>Check</button>
<div class="dc-verdict" id="{uid}-verdict" role="status" data-verdict="idle">
<p class="dc-waiting">{waiting}</p></div>
</form></div>
"""


def visit_html(self: Any, node: derivation_check) -> None:
    if self.builder.name != "html":  # the single page the PDF is printed from: the notebook paragraph
        return
    self.body.append(form_html(self.builder.app, self.builder.current_docname, node["model"], node["param"],
                               node.get("index", 0)))
    raise nodes.SkipNode


def _visit_pass(self: Any, node: nodes.Node) -> None:
    pass


def _depart(self: Any, node: nodes.Node) -> None:
    pass


# -- the page's script and the wheels -----------------------------------------------------------------


def _builder_inited(app: Sphinx) -> None:
    """The wheels the worker loads (html with the runtime only): the book's, and lark's (fetched, verified)."""
    app.checkform_wheels = []  # type: ignore[attr-defined]
    app.checkform_files = []  # type: ignore[attr-defined]
    if app.builder.name != "html" or not runtime_on(app):
        return
    book_wheel = getattr(app, "notebook_wheel", None)
    if book_wheel is None:  # a copy of the book without pyproject.toml: no wheel, no in-browser check
        return
    try:
        (lark,) = lite_assets.pypi_wheels(lite_assets.cache_dir(), (LARK,))
    except lite_assets.AssetError as err:
        raise ExtensionError(f"checkform: {err}") from err
    files = [Path(book_wheel), lark]
    app.checkform_files = files  # type: ignore[attr-defined]
    app.checkform_wheels = [(f.name, _integrity(f)) for f in files]  # type: ignore[attr-defined]
    _copy_wheels(Path(app.outdir) / CHECKER_DIR, files)


def _copy_wheels(folder: Path, files: list[Path]) -> None:
    """Put ``files`` in ``folder`` (and nothing else), now: the pages this build writes give their hashes
    as the integrity the browser checks, so a failed build must not leave the last build's wheels."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.name not in {f.name for f in files}:
            old.unlink()
    for src in files:
        target = folder / src.name
        if not (target.is_file() and target.read_bytes() == src.read_bytes()):
            shutil.copyfile(src, target)


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    if app.builder.name == "html" and doctree is not None and next(iter(doctree.findall(derivation_check)), None):
        app.add_css_file("checkform.css")
        app.add_js_file("checkform.js", loading_method="defer")


def _check_runtime(app: Sphinx, exception: Exception | None) -> None:
    """The pages of a build with the checker load Pyodide from PYODIDE_DIR: it must be there; a build
    without it has no wheels in CHECKER_DIR."""
    if exception is not None or app.builder.name != "html":
        return
    files: list[Path] = app.checkform_files  # type: ignore[attr-defined]
    if files and not (Path(app.outdir) / PYODIDE_DIR / "pyodide.js").is_file():
        raise ExtensionError(f"checkform: the pages load {PYODIDE_DIR}pyodide.js, which this build did not write")
    if not files and (Path(app.outdir) / CHECKER_DIR).is_dir():
        shutil.rmtree(Path(app.outdir) / CHECKER_DIR)


def setup(app: Sphinx) -> dict:
    app.setup_extension("notebooks")  # its builder-inited builds the book's wheel
    app.add_node(derivation_check, html=(visit_html, _depart), latex=(_visit_pass, _depart),
                 text=(_visit_pass, _depart), man=(_visit_pass, _depart), texinfo=(_visit_pass, _depart))
    app.add_directive("derivation-check", DerivationCheck)
    app.connect("builder-inited", _builder_inited, priority=600)  # after notebooks' (500) and lite's
    app.connect("doctree-read", _add_section, priority=400)  # before the toc collector (500) numbers sections
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _check_runtime, priority=900)  # after lite.py wrote lite/ (800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
