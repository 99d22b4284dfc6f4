"""MyST Markdown notebook -> a notebook whose Markdown any Jupyter renders.

The chapters are MyST notebooks (jupytext's ``md:myst``). Jupyter's own Markdown (JupyterLab,
Notebook, nbconvert) knows CommonMark, GitHub tables, HTML and ``$``/``$$`` math, but none of
MyST's directives and roles, so a chapter read by jupytext alone shows ``{math}`` blocks with
``:label:`` lines, ``{eq}`` references as code and exercise solutions unfolded. This module
turns the MyST-only syntax into plain Jupyter Markdown:

- a ``{math}`` block (or ``$$ ... $$ (label)``) becomes ``$$ ... $$``; a labelled one gets
  ``\\tag{2.3}`` with the number the HTML book shows (blank-line separated parts and ``\\\\``
  are wrapped as Sphinx's MathJax writer wraps them);
- a role that Sphinx resolves (``{eq}``, ``{numref}``, ``{ref}``, ``{doc}``, ``{cite}`` ...) and a
  MyST link to a label or page become the text the HTML book shows, linked to that page;
- admonitions (``{note}``, ``{admonition}``, ...) and dropdowns become ``<details>`` blocks:
  open unless the HTML folds them (``:class: dropdown``, ``{dropdown}``), so solutions stay folded;
- ``{figure}`` / ``{image}`` become images carried in the notebook as cell attachments;
- ``{code-block}`` becomes a fenced code block; plain fences, tables and HTML stay as they are;
- ``(label)=`` targets and ``%`` comments go; cells keep their tags, and cells hidden in the HTML
  (``hide-input``, ``remove-cell`` ...) get Jupyter's own ``source_hidden`` flag.

The conversion is driven by the MyST parser's tokens (myst-parser's markdown-it setup, with the
book's ``myst_enable_extensions``), not by the chapters' current text; anything it does not know
raises :class:`ConversionError` naming the page and line, so the build fails loudly rather than
shipping raw MyST. What Sphinx computes (equation and figure numbers, resolved references) comes
in a :class:`PageRefs`, recorded from the Sphinx environment by ``notebooks.py`` during the HTML
build and saved as JSON, so that ``make notebooks`` converts with exactly the same numbers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import mimetypes
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

__all__ = ["ConversionError", "PageRefs", "convert_notebook", "convert_markdown", "display_math", "read_myst"]


class ConversionError(ValueError):
    """MyST syntax the conversion cannot turn into Jupyter Markdown (or a reference Sphinx did not record)."""


# A resolved reference as the HTML book shows it: a list of segments, each Markdown text with an
# optional link target (a path from the site's root, e.g. "book/ch1_conv_mse.html#equation-ch1-da").
Segment = dict[str, str]


@dataclass
class PageRefs:
    """What Sphinx knows about one page, recorded during the HTML build (see notebooks.py)."""

    docname: str
    html: str  # the page's path from the site root, e.g. "book/ch2_softmax_ce.html"
    title: str = ""
    number: str = ""  # the chapter number in the toc ("2"), "" if unnumbered
    source_sha256: str = ""
    equations: dict[str, str] = field(default_factory=dict)  # label -> "2.3"
    figures: dict[str, str] = field(default_factory=dict)  # label -> "Fig. 2.1"
    roles: dict[str, list[Segment]] = field(default_factory=dict)  # ":eq:`ch2-a`" -> segments
    links: list[dict[str, Any]] = field(default_factory=list)  # MyST links in document order

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageRefs:
        return cls(**data)


# -- the parser -------------------------------------------------------------------------------------

_PARSERS: dict[tuple[str, ...], MarkdownIt] = {}


def _parser(extensions: list[str] | tuple[str, ...]) -> MarkdownIt:
    """myst-parser's own markdown-it setup (the one Sphinx uses), with the book's extensions."""
    key = tuple(sorted(extensions))
    if key not in _PARSERS:
        from myst_parser.config.main import MdParserConfig
        from myst_parser.parsers.mdit import create_md_parser

        _PARSERS[key] = create_md_parser(MdParserConfig(enable_extensions=set(key)), RendererHTML)
    return _PARSERS[key]


def read_myst(path: Path) -> nbformat.NotebookNode:
    """The notebook of a MyST Markdown file, as jupytext reads it (cells, tags, no outputs)."""
    return jupytext.read(path, fmt="md:myst")


# -- display math, as Sphinx's MathJax writer prints it ----------------------------------------------


def display_math(latex: str, number: str | None = None, nowrap: bool = False) -> str:
    """``$$ ... $$`` for a display equation; ``number`` adds ``\\tag{number}``.

    Mirrors sphinx.ext.mathjax.html_visit_displaymath: parts separated by blank lines are
    aligned one per line, and a part containing ``\\\\`` is wrapped in ``split``. Jupyter's
    Markdown ends a ``$$`` block at a blank line, so the result never contains one.
    """
    if nowrap:
        body = "\n".join(line for line in latex.strip("\n").split("\n") if line.strip())
        return f"$$\n{body}\n$$" if not body.lstrip().startswith("\\begin") else body
    parts = [p.strip() for p in re.split(r"\n\s*\n", latex.strip()) if p.strip()]
    if not parts:
        raise ConversionError("an empty math block")
    wrapped = [f"\\begin{{split}}{p}\\end{{split}}" if "\\\\" in p else p for p in parts]
    body = wrapped[0] if len(wrapped) == 1 else "\\begin{aligned}" + "\\\\\n".join(wrapped) + "\\end{aligned}"
    body = "\n".join(line for line in body.split("\n") if line.strip())
    tag = f" \\tag{{{number}}}" if number else ""
    return f"$$\n{body}{tag}\n$$"


# -- directives --------------------------------------------------------------------------------------

ADMONITIONS = {
    "admonition": None, "note": "Note", "warning": "Warning", "tip": "Tip", "hint": "Hint",
    "important": "Important", "caution": "Caution", "attention": "Attention", "danger": "Danger",
    "error": "Error", "seealso": "See also", "todo": "To do",
}
TITLED_BOXES = {"dropdown", "card", "tab-item", "topic", "sidebar", "margin", "aside"}
CONTAINERS = {"tab-set", "grid", "grid-item", "grid-item-card", "div", "container", "only"}
QUOTES = {"epigraph", "pull-quote", "highlights"}
CODE = {"code-block", "code", "sourcecode"}
DROPPED = {"tableofcontents", "toctree", "contents"}
HIDDEN_TAGS = {"hide-input", "remove-input", "hide-cell", "remove-cell"}


def _split_directive(info: str, content: str) -> tuple[str, str, dict[str, str], str]:
    """``{name} argument`` and the body of a fence: (name, argument, options, body)."""
    m = re.match(r"\{([^}\s]+)\}\s*(.*)$", info.strip())
    if not m:
        raise ConversionError(f"not a directive: {info!r}")
    name, argument = m.group(1), m.group(2).strip()
    lines = content.split("\n")
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is None:
            raise ConversionError(f"{{{name}}}: unterminated option block")
        import yaml

        options = {str(k): str(v) for k, v in (yaml.safe_load("\n".join(lines[1:end])) or {}).items()}
        lines = lines[end + 1 :]
    else:
        while lines and re.match(r"^:[\w-]+:", lines[0]):
            key, _, value = lines.pop(0)[1:].partition(":")
            options[key.strip()] = value.strip()
    return name, argument, options, "\n".join(lines).strip("\n")


# -- inline syntax -------------------------------------------------------------------------------------

_INLINE = re.compile(
    r"(?P<esc>\\[^\n])"
    r"|(?P<role>\{(?P<rname>[A-Za-z0-9_:+.-]+)\}(?P<rticks>`+)(?P<rbody>.+?)(?P=rticks))"
    r"|(?P<code>(?P<ticks>`+).+?(?P=ticks))"
    r"|(?P<math>\$\$.+?\$\$|\$(?=[^\s$])(?:\\.|[^$\\])*?(?<=[^\s\\])\$(?!\d))"
    r"|(?P<link>(?P<bang>!)?\[(?P<ltext>(?:\\.|`[^`]*`|[^\[\]\\]|\[(?:\\.|[^\[\]\\])*\])*)\]"
    r"\((?P<href><[^>\n]*>|[^\s()]+(?:\([^\s()]*\)[^\s()]*)*)?(?P<ltitle>\s+\"[^\"]*\")?\))"
    r"|(?P<autolink><[A-Za-z][A-Za-z0-9+.-]*:[^\s<>]*>)",
    re.DOTALL,
)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
URL_SCHEMES = {"http", "https", "mailto", "ftp"}
_LOCAL_ROLES = {
    "code", "literal", "samp", "kbd", "file", "command", "program", "guilabel", "menuselection",
    "math", "sub", "subscript", "sup", "superscript", "abbr", "emphasis", "strong", "dfn",
}


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


def segments_to_markdown(segments: list[Segment], href: Callable[[str], str], text: str | None = None) -> str:
    """Markdown for a resolved reference; ``text`` replaces the link text of a single link."""
    out = []
    for seg in segments:
        md = seg["md"] if text is None else text
        if seg.get("href"):
            out.append(f"[{md}]({href(seg['href'])})")
        else:
            out.append(md)
    return "".join(out)


# -- the converter -------------------------------------------------------------------------------------


@dataclass
class Context:
    """Everything one page's conversion needs; ``href`` maps a site path to the notebook's link."""

    page: PageRefs
    href: Callable[[str], str]
    extensions: tuple[str, ...]
    source_dir: Path | None = None  # where images are read from
    attachments: dict[str, dict[str, str]] = field(default_factory=dict)
    _links: Iterator[dict[str, Any]] | None = None
    _lines: int = 0  # line offset of the cell in the source, for messages

    def where(self, line: int = 0) -> str:
        return f"{self.page.docname} (cell line {line + 1})"

    def next_link(self, target: str, line: int) -> dict[str, Any]:
        if self._links is None:
            self._links = iter(self.page.links)
        entry = next(self._links, None)
        if entry is None:
            raise ConversionError(f"{self.where(line)}: the link to {target!r} was not resolved by Sphinx")
        recorded = str(entry.get("target", ""))
        wanted = target.split("#")[0].removesuffix(".md").removesuffix(".ipynb").strip("/").split("/")[-1].lower()
        if wanted and wanted not in recorded.lower():
            raise ConversionError(f"{self.where(line)}: link {target!r} met where Sphinx resolved {recorded!r}")
        return entry


def _role(ctx: Context, name: str, body: str, line: int) -> str:
    key = f":{name}:`{body}`"
    if key in ctx.page.roles:
        return segments_to_markdown(ctx.page.roles[key], ctx.href)
    if name == "math":
        return f"${body}$"
    if name in {"sub", "subscript"}:
        return f"<sub>{html.escape(body)}</sub>"
    if name in {"sup", "superscript"}:
        return f"<sup>{html.escape(body)}</sup>"
    if name == "abbr":
        m = re.match(r"(.*?)\s*\((.*)\)\s*$", body, re.DOTALL)
        short, title = (m.group(1), m.group(2)) if m else (body, "")
        return f'<abbr title="{html.escape(title)}">{html.escape(short)}</abbr>' if title else html.escape(short)
    if name in {"emphasis", "dfn"}:
        return f"*{body}*"
    if name == "strong":
        return f"**{body}**"
    if name in _LOCAL_ROLES:
        ticks = "``" if "`" in body else "`"
        return f"{ticks}{body}{ticks}"
    raise ConversionError(f"{ctx.where(line)}: role {{{name}}}`{body}` is neither resolved by Sphinx nor known here")


def _image(ctx: Context, src: str, alt: str, line: int) -> str:
    """An image: a local file becomes a cell attachment (the notebook carries it), a URL stays."""
    if _SCHEME.match(src) or src.startswith("data:"):
        return f"![{alt}]({src})"
    if ctx.source_dir is None:
        raise ConversionError(f"{ctx.where(line)}: image {src!r} without a source folder to read it from")
    path = (ctx.source_dir / src.lstrip("/")).resolve()
    if not path.is_file():
        raise ConversionError(f"{ctx.where(line)}: image {src!r} not found at {path}")
    data = path.read_bytes()
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    name = f"{hashlib.sha256(data).hexdigest()[:12]}-{path.name}"
    ctx.attachments[name] = {mime: base64.b64encode(data).decode("ascii")}
    return f"![{alt}](attachment:{name})"


def _inline(ctx: Context, text: str, line: int, counts: dict[str, int]) -> str:
    """Rewrite roles, MyST links and local images in prose (code spans and math untouched)."""

    def replace(m: re.Match) -> str:
        if m.group("role"):
            counts["role"] += 1
            return _role(ctx, m.group("rname"), m.group("rbody"), line)
        if m.group("link"):
            label, target = m.group("ltext"), (m.group("href") or "").strip("<>")
            if m.group("bang"):
                counts["image"] += 1
                return _image(ctx, target, label, line)
            if target.startswith("#"):
                return f"[{_inline(ctx, label, line, counts)}]({ctx.href(ctx.page.html + target)})"
            scheme = _SCHEME.match(target)
            if scheme and scheme.group(1).lower() in URL_SCHEMES:
                return f"[{_inline(ctx, label, line, counts)}]({target})"
            counts["internal"] += 1
            entry = ctx.next_link(target, line)
            own = _inline(ctx, label, line, counts).strip()
            return segments_to_markdown(entry["segments"], ctx.href, own or None)
        return m.group(0)

    return _INLINE.sub(replace, text)


def _is_internal(href: str) -> bool:
    """A link MyST resolves itself (to a label or a page), not a URL or an anchor of the page."""
    scheme = _SCHEME.match(href)
    return not href.startswith("#") and not (scheme and scheme.group(1).lower() in URL_SCHEMES)


def _count_tokens(tokens: list[Token]) -> dict[str, int]:
    """Roles, internal links and images as the MyST parser sees them (the conversion must meet as many)."""
    counts = {"role": 0, "internal": 0, "image": 0}
    for tok in tokens:
        for child in tok.children or []:
            if child.type == "myst_role":
                counts["role"] += 1
            elif child.type == "link_open" and _is_internal(str(child.attrGet("href") or "")):
                counts["internal"] += 1
            elif child.type == "image":
                counts["image"] += 1
    return counts


_CODE_TOKENS = {"fence", "code_block", "html_block", "front_matter", "amsmath"}


def convert_markdown(ctx: Context, text: str, line0: int = 0) -> str:
    """Convert the MyST Markdown of one cell (or a directive's body) to Jupyter Markdown."""
    tokens = _parser(ctx.extensions).parse(text)
    lines = text.split("\n")
    # block tokens replaced whole (converted in document order, so that MyST links are met in the
    # order Sphinx resolved them), and lines that are code (kept as they are)
    special: dict[int, Token] = {}
    verbatim: set[int] = set()
    for tok in tokens:
        if tok.map is None:
            continue
        start, end = tok.map
        if tok.type == "substitution_block" or any(c.type == "substitution_inline" for c in tok.children or []):
            raise ConversionError(f"{ctx.where(line0 + start)}: MyST substitutions are not converted")
        if tok.type.startswith("footnote") or any(c.type == "footnote_ref" for c in tok.children or []):
            raise ConversionError(f"{ctx.where(line0 + start)}: footnotes are not converted (Jupyter's Markdown has none)")
        if _is_special(tok):
            special[start] = tok
        elif tok.type in _CODE_TOKENS:
            verbatim.update(range(start, end))

    out: list[str] = []
    counts = {"role": 0, "internal": 0, "image": 0}
    prose: list[str] = []

    def flush(at: int) -> None:
        if prose:
            out.extend(_inline(ctx, "\n".join(prose), at, counts).split("\n"))
            prose.clear()

    def separate(sep: str) -> None:
        if out and out[-1].strip(" \t>"):
            out.append(sep)

    i = 0
    while i < len(lines):
        if i in special:
            flush(line0 + i)
            tok = special[i]
            if tok.type == "dl_open":
                new = _definition_list(ctx, lines[tok.map[0] : tok.map[1]], line0 + i, counts)
            else:
                new = _block(ctx, tok, line0 + i)
            prefix = re.match(r"^[ \t>]*", lines[i]).group(0) if tok.level else ""
            if prefix:
                new = "\n".join(prefix + ln if ln else prefix.rstrip() for ln in new.split("\n"))
            if new:  # a block of its own: blank lines around it (inside a quote, quoted ones)
                separate(prefix.rstrip())
                out.extend(new.split("\n"))
                out.append(prefix.rstrip())
            i = tok.map[1]
            while i < len(lines) and not lines[i].strip(" \t>") and out and not out[-1].strip(" \t>"):
                i += 1  # no second blank line
        elif i in verbatim:
            flush(line0 + i)
            out.append(lines[i])
            i += 1
        else:
            prose.append(lines[i])
            i += 1
    flush(line0 + len(lines))
    expected = _count_tokens(tokens)
    if counts != expected:
        raise ConversionError(f"{ctx.where(line0)}: found {counts} in the text where the MyST parser sees {expected}")
    return "\n".join(out).strip("\n")


def _details(ctx: Context, title: str, body: str, line: int, open_: bool, classes: str = "") -> str:
    summary = _inline_html(ctx, title, line)
    inner = convert_markdown(ctx, body, line + 1) if body.strip() else ""
    cls = f' class="{html.escape(classes)}"' if classes else ""
    return f"<details{' open' if open_ else ''}{cls}>\n<summary>{summary}</summary>\n\n{inner}\n\n</details>"


def _inline_html(ctx: Context, text: str, line: int) -> str:
    """A title as HTML (a <summary> is HTML, where Markdown is not parsed); math is kept for MathJax."""
    md = _inline(ctx, text, line, {"role": 0, "internal": 0, "image": 0})
    maths: list[str] = []

    def keep(m: re.Match) -> str:
        maths.append(m.group(0))
        return f"\x00{len(maths) - 1}\x00"

    md = re.sub(r"\$\$.+?\$\$|\$(?=[^\s$])(?:\\.|[^$\\])*?(?<=[^\s\\])\$", keep, md)
    rendered = MarkdownIt("commonmark").renderInline(md)
    return re.sub(r"\x00(\d+)\x00", lambda m: html.escape(maths[int(m.group(1))], quote=False), rendered)


def _is_special(tok: Token) -> bool:
    """A block token that is replaced whole (MyST syntax or display math)."""
    if tok.type == "fence":
        return tok.info.strip().startswith("{")
    if tok.type == "dl_open":
        return tok.level == 0
    return tok.type in {"myst_target", "myst_line_comment", "myst_block_break", "math_block_label", "math_block", "colon_fence"}


def _block(ctx: Context, tok: Token, line: int) -> str:
    """The replacement of one block token (see _is_special)."""
    if tok.type in {"myst_target", "myst_line_comment", "myst_block_break"}:
        return ""
    if tok.type == "math_block_label":
        return display_math(tok.content, _equation_number(ctx, tok.info, line))
    if tok.type == "math_block":
        return display_math(tok.content)
    return _directive(ctx, tok.info, tok.content, line)


def _definition_list(ctx: Context, source: list[str], line: int, counts: dict[str, int]) -> str:
    """A definition list (Jupyter's Markdown has none): each term in bold, its definitions quoted."""
    out, in_definition = [], False
    for text in source:
        start = re.match(r"^ {0,3}:\s+(.*)$", text)
        if start:
            out.append("> " + start.group(1))
            in_definition = True
        elif not text.strip():
            out.append("")
        elif in_definition and text[:1] in " \t":
            out.append("> " + text.strip())
        else:
            out.append(f"**{text.strip()}**")
            in_definition = False
    return _inline(ctx, "\n".join(out).strip("\n"), line, counts)


def _equation_number(ctx: Context, label: str, line: int) -> str:
    if label not in ctx.page.equations:
        raise ConversionError(f"{ctx.where(line)}: equation {label!r} has no number in the Sphinx environment")
    return ctx.page.equations[label]


def _directive(ctx: Context, info: str, content: str, line: int) -> str:
    name, arg, opts, body = _split_directive(info, content)
    classes = opts.get("class", "").split()
    if name == "math":
        latex = arg + "\n\n" + body if arg else body
        label = opts.get("label") or opts.get("name")
        if "nowrap" in opts:
            return display_math(latex, nowrap=True)
        return display_math(latex, _equation_number(ctx, label, line) if label else None)
    if name in CODE:
        ticks = "`" * max(3, max((len(t) for t in re.findall(r"`+", body)), default=0) + 1)
        caption = opts.get("caption")
        return (f"*{caption}*\n\n" if caption else "") + f"{ticks}{arg}\n{body}\n{ticks}"
    if name in ADMONITIONS:
        title = arg if name == "admonition" else (ADMONITIONS[name] + (f": {arg}" if arg else ""))
        if name == "admonition" and not arg:
            raise ConversionError(f"{ctx.where(line)}: {{admonition}} without a title")
        return _details(ctx, title, body, line, open_="dropdown" not in classes, classes=" ".join([name, *classes]))
    if name in TITLED_BOXES:
        folded = name == "dropdown" and "open" not in opts or "dropdown" in classes
        return _details(ctx, arg or name.replace("-", " ").capitalize(), body, line, open_=not folded, classes=name)
    if name in CONTAINERS:
        if name == "only" and "html" not in arg and "format_html" not in arg:
            return ""
        return convert_markdown(ctx, body, line + 1)
    if name in QUOTES:
        inner = convert_markdown(ctx, body, line + 1)
        return "\n".join("> " + ln if ln else ">" for ln in inner.split("\n"))
    if name in {"figure", "image"}:
        alt = opts.get("alt", "")
        img = _image(ctx, arg, alt, line)
        if name == "image" or not body.strip():
            return img
        label = opts.get("name")
        caption = convert_markdown(ctx, body, line + 1)
        prefix = f"{ctx.page.figures[label]}: " if label and label in ctx.page.figures else ""
        return f"{img}\n\n*{prefix}{caption}*" if "\n\n" not in caption else f"{img}\n\n{prefix}{caption}"
    if name == "table":
        caption = f"*{_inline(ctx, arg, line, {'role': 0, 'internal': 0, 'image': 0})}*\n\n" if arg else ""
        return caption + convert_markdown(ctx, body, line + 1)
    if name == "raw":
        return body if arg.strip() == "html" else ""
    if name in DROPPED:
        return ""
    if name == "derivation-check":  # the page's form (checkform.py); a notebook calls the checker itself
        from bookext.checkform import notebook_markdown
        return notebook_markdown(ctx.page.docname, arg, opts)
    raise ConversionError(f"{ctx.where(line)}: the directive {{{name}}} has no Jupyter Markdown form here (add one to book/_ext/jupyter_markdown.py)")


# -- whole notebooks ----------------------------------------------------------------------------------


def convert_notebook(
    nb: nbformat.NotebookNode,
    page: PageRefs,
    href: Callable[[str], str],
    extensions: list[str] | tuple[str, ...],
    source_dir: Path | None = None,
    preamble: str | None = None,
) -> nbformat.NotebookNode:
    """A copy of ``nb`` (as jupytext read it) with every Markdown cell converted.

    ``href`` turns a site path ("book/ch1.html#x") into the link the notebook shows;
    ``preamble`` (Markdown) goes into the first Markdown cell, after its first heading.
    """
    out = nbformat.v4.new_notebook()
    meta = copy.deepcopy(dict(nb.metadata))
    meta.pop("jupytext", None)
    meta.setdefault("language_info", {"name": "python"})
    out.metadata = nbformat.from_dict(meta)
    ctx = Context(page=page, href=href, extensions=tuple(extensions), source_dir=source_dir)
    first_markdown = True
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            ctx.attachments = {}
            source = convert_markdown(ctx, cell.source)
            if first_markdown and preamble:
                source = _insert_preamble(source, preamble)
            first_markdown = False
            new = nbformat.v4.new_markdown_cell(source, metadata=copy.deepcopy(dict(cell.metadata)))
            if ctx.attachments:
                new.attachments = ctx.attachments
        elif cell.cell_type == "code":
            metadata = copy.deepcopy(dict(cell.metadata))
            tags = set(metadata.get("tags", []))
            if tags & HIDDEN_TAGS:
                metadata.setdefault("jupyter", {})["source_hidden"] = True
            if "hide-output" in tags:
                metadata.setdefault("jupyter", {})["outputs_hidden"] = True
            new = nbformat.v4.new_code_cell(cell.source, metadata=metadata)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=copy.deepcopy(dict(cell.metadata)))
        out.cells.append(new)
    if ctx._links is not None and next(ctx._links, None) is not None:
        raise ConversionError(f"{page.docname}: Sphinx resolved more MyST links than the conversion met")
    if not ctx._links and page.links:
        raise ConversionError(f"{page.docname}: Sphinx resolved MyST links that the conversion did not meet")
    nbformat.validate(out)
    return out


def _insert_preamble(source: str, preamble: str) -> str:
    lines = source.split("\n")
    for i, line in enumerate(lines):
        if re.match(r"^#{1,6}\s", line):
            joined = "\n".join(lines[: i + 1] + ["", preamble, ""] + lines[i + 1 :])
            return re.sub(r"\n{3,}", "\n\n", joined).strip("\n")
    return preamble + "\n\n" + source


def relative_href(from_path: str) -> Callable[[str], str]:
    """Links relative to the folder of ``from_path`` (a path from the site root)."""
    base = posixpath.dirname(from_path) or "."

    def href(site_path: str) -> str:
        path, _, anchor = site_path.partition("#")
        rel = posixpath.relpath(path, base) if path else ""
        return rel + (f"#{anchor}" if anchor else "")

    return href


def absolute_href(base_url: str) -> Callable[[str], str]:
    """Links under ``base_url`` (e.g. the html_baseurl of a published book)."""
    base = base_url.rstrip("/") + "/"
    return lambda site_path: base + site_path
