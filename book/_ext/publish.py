"""Sphinx extension: what a published site needs beyond the pages.

Every link, asset, download and search of the HTML book is relative to its page, so the same
build works at the root of a host or under any sub-path (a GitHub project page is served at
``/<repository>/``). Three things cannot be relative, and take the site's public address from
the environment variable ``BOOK_SITE_URL`` (the deploy workflow sets it, e.g.
``https://owner.github.io/repository/``):

- the 404 page (sphinx-notfound-page), which a host serves at any depth, so its links and
  assets need the site's path: ``notfound_urls_prefix`` is the path of ``BOOK_SITE_URL``
  (``/`` when it is unset: a site served at the root of its host), and ``{root}`` in the
  page's text (``notfound_context`` in _config.yml) becomes that path;
- the Open Graph tags (sphinxext-opengraph): ``og:url`` and ``og:image`` must be absolute, so
  they are written only when ``BOOK_SITE_URL`` is set; title, description, type and site name
  are written always;
- ``html_baseurl`` (the canonical link of every page).

The image of the book for ``og:image`` (``_static/book-card.png``, 1200 x 630) is drawn at
build time with matplotlib, so no binary is kept in the repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

from sphinx.application import Sphinx
from sphinx.config import Config

CARD = "_static/book-card.png"


def site_settings(site_url: str) -> dict[str, object]:
    """The configuration values that depend on the site's public address ("" if unknown)."""
    site_url = site_url.strip()
    if not site_url:
        return {"notfound_urls_prefix": "/", "ogp_site_url": "", "ogp_image": None, "html_baseurl": ""}
    parsed = urlparse(site_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"BOOK_SITE_URL must be an absolute http(s) URL, got {site_url!r}")
    site_url = site_url.rstrip("/") + "/"
    path = urlparse(site_url).path
    return {"notfound_urls_prefix": path, "ogp_site_url": site_url, "ogp_image": CARD, "html_baseurl": site_url}


def _configure(app: Sphinx, config: Config) -> None:
    settings = site_settings(os.environ.get("BOOK_SITE_URL", ""))
    for name, value in settings.items():
        setattr(config, name, value)
    # the 404 page's own text links back to the contents through the site's path
    context = dict(config.notfound_context)
    context["body"] = context.get("body", "").replace("{root}", str(settings["notfound_urls_prefix"]))
    config.notfound_context = context


def _drop_relative_og_url(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    # sphinxext-opengraph writes og:url even without a site address, as a relative URL, which
    # Open Graph does not allow: without BOOK_SITE_URL the page has no og:url at all.
    if not app.config.ogp_site_url and "metatags" in context:
        context["metatags"] = re.sub(r'<meta property="og:url"[^>]*>\n?', "", context["metatags"])


def draw_card(path: Path, title: str, tagline: str) -> None:
    """The book's card for link previews: its title, its promise, and a forward/backward graph."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 6.3), dpi=100, facecolor="#f6f8fa")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 12)
    ax.set_ylim(0, 6.3)
    ax.set_axis_off()
    ax.text(0.7, 4.9, title, fontsize=44, fontweight="bold", color="#1f2937", va="center")
    ax.text(0.7, 4.0, tagline, fontsize=22, color="#374151", va="center")
    names = ["x", "W", "z", "σ", "L"]
    xs = [1.5, 3.7, 5.9, 8.1, 10.3]
    for i, (x, name) in enumerate(zip(xs, names)):
        ax.add_patch(matplotlib.patches.Circle((x, 2.0), 0.55, facecolor="white", edgecolor="#2563eb", lw=3))
        ax.text(x, 2.0, name, fontsize=26, ha="center", va="center", color="#1f2937")
        if i:
            ax.annotate("", xy=(x - 0.6, 2.25), xytext=(xs[i - 1] + 0.6, 2.25),
                        arrowprops={"arrowstyle": "->", "color": "#2563eb", "lw": 2.5})
            ax.annotate("", xy=(xs[i - 1] + 0.6, 1.75), xytext=(x - 0.6, 1.75),
                        arrowprops={"arrowstyle": "->", "color": "#dc2626", "lw": 2.5})
    ax.text(0.7, 0.7, "forward (blue) and backward (red), every step checked numerically",
            fontsize=18, color="#4b5563")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, facecolor=fig.get_facecolor())


def _write_card(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    draw_card(Path(app.outdir) / CARD, app.config.html_title, "Every backpropagation derivation, typeset and checked")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _configure, priority=400)
    app.connect("builder-inited", _write_card)
    app.connect("html-page-context", _drop_relative_og_url, priority=900)  # after sphinxext-opengraph (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
