"""The chapters as notebooks outside the book: the conversion of MyST to Jupyter Markdown, the
site's .ipynb downloads seen through nbconvert (Jupyter's own Markdown renderer), `make notebooks`
agreeing with them and with the HTML, the backprop_lib wheel offered beside them (and cached),
and the package declaring what the chapters import."""

from __future__ import annotations

import base64
import functools
import importlib.metadata as md
import json
import os
import posixpath
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import jupytext
import nbformat
import pytest
from bookbuild import CHAPTERS, ROOT
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from packaging.requirements import Requirement

from bookext import jupyter_markdown as jm
from bookext import libwheel
from bookext import notebooks as site_notebooks  # book/_ext/notebooks.py, the Sphinx extension
from bookscripts import make_notebooks as scripts_notebooks  # `make notebooks`
MYST_LEFTOVERS = ("{math}", "{eq}", "{doc}", ":::", ":label:")
EXTENSIONS = ("amsmath", "dollarmath", "colon_fence", "deflist", "substitution")


# -- the conversion, on MyST written here ---------------------------------------------------------------


def page(**kw) -> jm.PageRefs:
    return jm.PageRefs(docname="book/chx", html="book/chx.html", **kw)


def convert(text: str, refs: jm.PageRefs | None = None, source_dir: Path | None = None) -> str:
    ctx = jm.Context(page=refs or page(), href=jm.relative_href("_sources/book/chx.ipynb"),
                     extensions=EXTENSIONS, source_dir=source_dir)
    return jm.convert_markdown(ctx, text)


def test_labelled_math_gets_the_books_number_and_sphinx_wrapping():
    refs = page(equations={"x-a": "2.3", "x-b": "2.4"})
    out = convert("Text\n\n```{math}\n:label: x-a\na = b\n```\n\n$$ c = d $$ (x-b)\n\n```{math}\nu \\\\ v\n\np = q\n```\n", refs)
    assert "$$\na = b \\tag{2.3}\n$$" in out
    assert "$$\nc = d \\tag{2.4}\n$$" in out
    # two parts (blank line) are aligned, a part with \\ is a split, and no blank line is left inside $$
    assert "\\begin{aligned}\\begin{split}u \\\\ v\\end{split}\\\\\np = q\\end{aligned}" in out
    assert not re.search(r"\$\$\n[^$]*\n\n[^$]*\$\$", out)
    for leftover in MYST_LEFTOVERS:
        assert leftover not in out


def test_a_label_without_a_number_is_an_error():
    with pytest.raises(jm.ConversionError, match="x-missing"):
        convert("```{math}\n:label: x-missing\na\n```\n")


def test_roles_become_what_sphinx_resolved_and_code_stays_code():
    refs = page(roles={":eq:`x-a`": [{"md": "(2.3)", "href": "book/chx.html#equation-x-a"}],
                       ":doc:`chy`": [{"md": "Another chapter", "href": "book/chy.html"}]})
    out = convert("By {eq}`x-a` and {doc}`chy`; the role `{eq}` is written like this, $\\{a\\}$.", refs)
    assert out == ("By [(2.3)](../../book/chx.html#equation-x-a) and [Another chapter](../../book/chy.html); "
                   "the role `{eq}` is written like this, $\\{a\\}$.")


def test_an_unresolved_role_is_an_error():
    with pytest.raises(jm.ConversionError, match="numref"):
        convert("See {numref}`fig-1`.")


def test_local_roles():
    out = convert("{math}`x^2`, H{sub}`2`O, {abbr}`MSE (mean squared error)`.")
    assert out == '$x^2$, H<sub>2</sub>O, <abbr title="mean squared error">MSE</abbr>.'


def test_admonitions_become_details_folded_as_in_the_html():
    refs = page(roles={":eq:`x-a`": [{"md": "(2.3)", "href": "book/chx.html#equation-x-a"}]}, equations={"x-s": "2.5"})
    text = (":::{admonition} Solution to *exercise 1*\n:class: dropdown\nBy {eq}`x-a`,\n\n```{math}\n:label: x-s\ns\n```\n:::\n\n"
            "```{note}\nRead this.\n```\n\n````{dropdown} More\n```python\nx = 1\n```\n````\n")
    out = convert(text, refs)
    assert '<details class="admonition dropdown">\n<summary>Solution to <em>exercise 1</em></summary>' in out
    assert "By [(2.3)](../../book/chx.html#equation-x-a)," in out and "s \\tag{2.5}" in out
    assert '<details open class="note">\n<summary>Note</summary>\n\nRead this.\n\n</details>' in out
    assert '<details class="dropdown">\n<summary>More</summary>\n\n```python\nx = 1\n```\n\n</details>' in out


def test_myst_links_follow_sphinx_in_order_and_a_mismatch_is_an_error():
    refs = page(links=[{"target": "x-errata", "segments": [{"md": "Errata", "href": "book/chx.html#x-errata"}]}])
    assert convert("See [the slips](x-errata) and [a site](https://example.org).", refs) == (
        "See [the slips](../../book/chx.html#x-errata) and [a site](https://example.org).")
    with pytest.raises(jm.ConversionError, match="x-other"):
        convert("See [the slips](x-other).", refs)


def test_targets_comments_code_blocks_and_tables():
    text = ("(x-sec)=\n## A section\n% a comment\n\n```{code-block} python\n:caption: the code\nx = {1}\n```\n\n"
            "```text\n{math} stays as the seed wrote it\n```\n\n| a | b |\n| --- | --- |\n| $x$ | `y` |\n")
    out = convert(text)
    assert out.startswith("## A section\n\n*the code*\n\n```python\nx = {1}\n```")
    assert "```text\n{math} stays as the seed wrote it\n```" in out
    assert "| a | b |\n| --- | --- |\n| $x$ | `y` |" in out
    assert "(x-sec)=" not in out and "a comment" not in out


def test_figures_travel_as_attachments(tmp_path: Path):
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    (tmp_path / "dot.png").write_bytes(png)
    refs = page(figures={"x-fig": "Fig. 2.1"})
    ctx = jm.Context(page=refs, href=str, extensions=EXTENSIONS, source_dir=tmp_path)
    out = jm.convert_markdown(ctx, "```{figure} dot.png\n:name: x-fig\n:alt: a dot\n\nOne dot.\n```\n")
    (name, data), = ctx.attachments.items()
    assert out == f"![a dot](attachment:{name})\n\n*Fig. 2.1: One dot.*"
    assert base64.b64decode(data["image/png"]) == png
    with pytest.raises(jm.ConversionError, match="missing.png"):
        jm.convert_markdown(ctx, "![no](missing.png)")


def test_definition_lists_and_reference_links():
    refs = page(roles={":eq:`x-a`": [{"md": "(2.3)", "href": "book/chx.html#equation-x-a"}]})
    out = convert("Loss\n: the mean of {eq}`x-a`\n  over the batch\n\nSee [the docs][d].\n\n[d]: https://example.org\n", refs)
    assert out.startswith("**Loss**\n> the mean of [(2.3)](../../book/chx.html#equation-x-a)\n> over the batch\n\nSee [the docs][d].")


def test_unknown_directives_substitutions_and_footnotes_are_errors():
    with pytest.raises(jm.ConversionError, match=r"\{glue:figure\}"):
        convert("```{glue:figure} fig\n```\n")
    with pytest.raises(jm.ConversionError, match="substitution"):
        convert("The {{ value }} here.")
    with pytest.raises(jm.ConversionError, match="footnote"):
        convert("A claim.[^1]\n\n[^1]: Its source.\n")


def test_hidden_cells_keep_their_tags_and_are_collapsed():
    nb = jupytext.reads("---\njupytext:\n  text_representation:\n    format_name: myst\n---\n# T\n\n"
                        "```{code-cell} ipython3\n:tags: [hide-input]\n\nx = 1\n```\n\n"
                        "```{code-cell} ipython3\n:tags: [remove-output]\n\nx\n```\n", fmt="md:myst")
    out = jm.convert_notebook(nb, page(), str, EXTENSIONS, preamble="> Install.")
    first, hidden, shown = out.cells
    assert first.source == "# T\n\n> Install."
    assert hidden.metadata["tags"] == ["hide-input"] and hidden.metadata["jupyter"]["source_hidden"] is True
    assert shown.metadata["tags"] == ["remove-output"] and "jupyter" not in shown.metadata
    assert "jupytext" not in out.metadata


# -- the site's downloads ------------------------------------------------------------------------------


def html_equations(html: str) -> tuple[list[str], int]:
    """The numbers the HTML page shows (in order) and its count of display equations outside outputs."""
    soup = BeautifulSoup(html, "html.parser")
    numbers = [re.sub(r"[^\d.]", "", s.get_text()) for s in soup.select("span.eqno")]
    display = [d for d in soup.select("div.math") if not d.find_parent(class_="cell_output")]
    return numbers, len(display)


def notebook_equations(export: str) -> tuple[list[str], int]:
    """Tags (in order) and display equations in the Markdown of an nbconvert HTML export."""
    soup = BeautifulSoup(export, "html.parser")
    cells = soup.select(".jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .jp-MarkdownOutput")
    text = []
    for cell in cells:
        for code in cell.select("pre, code"):
            code.decompose()
        text.append(cell.get_text())
    joined = "\n".join(text)
    return re.findall(r"\\tag\{([^}]*)\}", joined), len(re.findall(r"\$\$(.+?)\$\$", joined, re.S))


@functools.cache
def page_ids(path: Path) -> frozenset[str]:
    """The ids of an HTML page (the anchors a link may end in)."""
    return frozenset(re.findall(r'\sid="([^"]+)"', path.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def exporter() -> HTMLExporter:
    return HTMLExporter()


@pytest.mark.parametrize("name", CHAPTERS)
def test_downloaded_notebook_renders_in_jupyter(built_book: Path, exporter: HTMLExporter, name: str):
    notebook = built_book / "_sources" / f"{name}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    export, _ = exporter.from_notebook_node(nb)
    leftovers = [s for s in MYST_LEFTOVERS if s in export]
    assert not leftovers, f"MyST syntax left in the nbconvert export of {name}: {leftovers}"

    numbers, display = html_equations((built_book / f"{name}.html").read_text(encoding="utf-8"))
    tags, blocks = notebook_equations(export)
    assert tags == numbers, f"equation numbers differ from the HTML page:\n{tags}\n{numbers}"
    assert blocks == display, f"{blocks} display equations in the notebook, {display} on the page"
    print(f"{name}: {len(tags)} numbered equations, {blocks} display equations")  # noqa: T201 (the report's numbers)

    # solutions stay folded: as many closed <details> as the page has dropdowns
    page_html = BeautifulSoup((built_book / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
    dropdowns = len(page_html.select("div.admonition.dropdown, details.sd-dropdown:not([open])"))
    soup = BeautifulSoup(export, "html.parser")
    assert len(soup.select("details:not([open])")) == dropdowns

    # every relative link reaches a file of the site, and its anchor an id of that page
    base = posixpath.dirname(f"_sources/{name}.ipynb")
    for a in soup.select(".jp-MarkdownCell a[href]"):
        href = a["href"]
        if re.match(r"^[a-z]+:", href) or href.startswith("#"):  # a URL, or nbconvert's own heading anchors
            continue
        path, _, anchor = href.partition("#")
        target = built_book / posixpath.normpath(posixpath.join(base, path))
        assert target.is_file(), f"link {href} in {name}.ipynb leads nowhere"
        if anchor and target.suffix == ".html":
            assert anchor in page_ids(target), f"link {href} in {name}.ipynb: no id {anchor!r} on that page"

    # cells keep their tags; the first Markdown cell says how to install the wheel that lies beside it
    source = jupytext.read(ROOT / f"{name}.md", fmt="md:myst")
    assert [c.metadata.get("tags", []) for c in nb.cells] == [c.metadata.get("tags", []) for c in source.cells]
    first = next(c for c in nb.cells if c.cell_type == "markdown").source
    wheel = libwheel.wheel_name(ROOT)
    assert f'pip install "{wheel}[book]"' in first
    assert f"]({wheel})" in first and (notebook.parent / wheel).is_file()


def test_wheel_is_offered_on_every_chapter_page(built_book: Path):
    wheel = libwheel.wheel_name(ROOT)
    for name in CHAPTERS:
        soup = BeautifulSoup((built_book / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
        links = soup.select("a.btn-download-wheel-button")
        assert len(links) == 1, f"no wheel in the download menu of {name}"
        href = links[0]["href"]
        assert href.endswith(wheel)
        assert (built_book / posixpath.normpath(posixpath.join(posixpath.dirname(name), href))).is_file()


def test_site_wheel_is_this_checkout_built_reproducibly(built_book: Path, tmp_path: Path):
    """Building the wheel again from this checkout gives the very bytes the site offers."""
    site = built_book / "_sources" / posixpath.dirname(CHAPTERS[0]) / libwheel.wheel_name(ROOT)
    again = libwheel.library_wheel(ROOT, tmp_path)
    assert again.read_bytes() == site.read_bytes()
    with zipfile.ZipFile(again) as whl:
        names = whl.namelist()
        meta = whl.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "backprop_lib").rglob("*.py")}
    assert sources <= set(names)
    # backprop_lib only: not the book's tooling (bookext, bookscripts, bookbench: tools/pyproject.toml)
    assert all(n.split("/")[0] in ("backprop_lib", f"backprop_lib-{libwheel.project_version(ROOT)}.dist-info")
               for n in names), names
    assert "Provides-Extra: book" in meta and re.search(r'Requires-Dist: matplotlib.*extra == "book"', meta)


def test_wheel_is_rebuilt_only_when_the_library_changes(tmp_path: Path):
    cache = tmp_path / "cache"
    first = libwheel.library_wheel(ROOT, cache)
    stamp = first.stat().st_mtime_ns
    assert libwheel.library_wheel(ROOT, cache) == first and first.stat().st_mtime_ns == stamp  # cached
    # a copy of the inputs with one library file changed: another key, a new wheel
    copy = tmp_path / "clone"
    copy.mkdir()
    for name in libwheel.INPUTS:
        (copy / name).write_bytes((ROOT / name).read_bytes())
    for path in (ROOT / "backprop_lib").rglob("*.py"):
        target = copy / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    (copy / "backprop_lib" / "__init__.py").write_text((ROOT / "backprop_lib" / "__init__.py").read_text() + "\n# changed\n")
    second = libwheel.library_wheel(copy, cache)
    assert second != first and second.parent.name == libwheel.wheel_key(copy) != libwheel.wheel_key(ROOT)
    with zipfile.ZipFile(second) as whl:
        assert whl.read("backprop_lib/__init__.py").decode().endswith("# changed\n")


# -- make notebooks ------------------------------------------------------------------------------------


def canonical(text: str, base: Path, site: Path) -> str:
    """Markdown with every relative link replaced by the site path it leads to."""

    def repl(m: re.Match) -> str:
        href = m.group(1)
        if re.match(r"^[a-z]+:", href):
            return m.group(0)
        path, _, anchor = href.partition("#")
        target = Path(os.path.normpath(base / path))
        return f"]({target.relative_to(site).as_posix()}{'#' + anchor if anchor else ''})"

    return re.sub(r"\]\(([^)\s]+)\)", repl, text)


def test_make_notebooks_agrees_with_the_site_and_the_html(built_book: Path, tmp_path: Path):
    index = built_book.parent / ".doctrees" / site_notebooks.INDEX_NAME
    out = tmp_path / "book"
    written = scripts_notebooks.write_notebooks(index, out)
    assert sorted(p.stem for p in written) == sorted(Path(c).name for c in CHAPTERS)
    wheel = libwheel.wheel_name(ROOT)
    for name in CHAPTERS:
        mine = nbformat.read(out / f"{Path(name).name}.ipynb", as_version=4)
        site = nbformat.read(built_book / "_sources" / f"{name}.ipynb", as_version=4)
        refs = jm.PageRefs.from_json(json.loads(index.read_text())["pages"][name])
        assert len(mine.cells) == len(site.cells)
        for a, b in zip(mine.cells, site.cells, strict=True):
            assert a.cell_type == b.cell_type and a.metadata == b.metadata
            if a.cell_type == "code":
                assert a.source == b.source
                continue
            a_text = a.source.replace(scripts_notebooks.clone_preamble(refs, wheel), "")
            b_text = b.source.replace(
                site_notebooks.site_preamble(refs, wheel).replace(
                    f"]({posixpath.basename(refs.html)})",
                    f"]({jm.relative_href(f'_sources/{name}.ipynb')(refs.html)})"), "")
            # links: the local build (make notebooks) and the site (downloads) lead to the same pages
            assert canonical(a_text, out, ROOT / "_build" / "html") == canonical(
                b_text, (built_book / "_sources" / name).parent, built_book)
        numbers, _ = html_equations((built_book / f"{name}.html").read_text(encoding="utf-8"))
        tags = re.findall(r"\\tag\{([^}]*)\}", "\n".join(c.source for c in mine.cells if c.cell_type == "markdown"))
        assert tags == numbers


def test_make_notebooks_refuses_a_source_changed_since_the_build(built_book: Path, tmp_path: Path):
    index = json.loads((built_book.parent / ".doctrees" / site_notebooks.INDEX_NAME).read_text())
    name = CHAPTERS[0]
    index["pages"][name]["source_sha256"] = "0" * 64
    stale = tmp_path / "index.json"
    stale.write_text(json.dumps(index))
    with pytest.raises(SystemExit, match="changed since the book was built"):
        scripts_notebooks.write_notebooks(stale, tmp_path / "out")


# -- the package declares what the chapters import -----------------------------------------------------


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["book"]]


def test_declared_dependencies_agree_with_requirements():
    pins = pinned()
    for req in declared():
        version = pins.get(req.name.lower().replace("_", "-"))
        assert version is not None, f"{req.name} is declared in pyproject.toml but not pinned in requirements.txt"
        assert req.specifier.contains(version), f"requirements.txt pins {req.name}=={version}, outside {req}"


def closure(requirements: list[Requirement]) -> set[str]:
    """Every distribution installing ``requirements`` brings (from the installed metadata)."""
    seen: set[str] = set()
    todo = [r.name for r in requirements]
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        for line in md.requires(name) or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


# imported by the chapters' set-up cell only when sys.platform is "emscripten", in the browser, where
# JupyterLite's Pyodide kernel brings it (tests/test_lite.py checks that the cell does nothing elsewhere)
BROWSER_ONLY = {"piplite"}


def test_the_book_extra_provides_every_import_of_the_chapters():
    provided = closure(declared())
    modules = md.packages_distributions()
    missing = {}
    for name in CHAPTERS:
        code = "\n".join(c.source for c in jupytext.read(ROOT / f"{name}.md", fmt="md:myst").cells if c.cell_type == "code")
        for top in set(re.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", code, re.M)):
            if top in sys.stdlib_module_names or top == "backprop_lib" or top in BROWSER_ONLY:
                continue
            dists = {d.lower().replace("_", "-") for d in modules.get(top, [])}
            if not dists & provided:
                missing.setdefault(top, []).append(name)
    assert not missing, f"imported by the chapters but not brought by backprop_lib[book]: {missing}"
