// The book's own behaviour on every page (loaded deferred: _config.yml's html_js_files).
//
// 1. The page's "Contents" button. sphinx-book-theme shows it in the article header, but
//    pydata-sphinx-theme wires up only the first ".secondary-toggle" of the page, a hidden one in
//    the top bar, so the visible button did nothing. Forward its clicks to the wired one, which
//    opens the page's contents as a drawer (book.css folds them into it at every width).
// 2. Display equations that MathJax could not break into the column (a matrix, a long product
//    without an operator to break at): one a little too wide is scaled down to fit (to no less
//    than MIN_SCALE of its size); a wider one scrolls in its box (book.css draws a shadow at the
//    edge that hides more) and becomes a focusable, named region, so a keyboard can scroll it.
//    Done once MathJax has typeset the page, and again when the window's width changes.
// 3. A figure opens full size on a tap: pagefixes.py links each content image to its file; the
//    click opens it at its natural size (its text as drawn, at least 8 pt) in a dialog that
//    scrolls, closed by its button, Escape or a tap on the image. Without JavaScript the link
//    shows the file.
document.addEventListener("DOMContentLoaded", () => {
  const visible = document.querySelector(".bd-header-article .secondary-toggle");
  const wired = document.querySelector(".secondary-toggle");
  if (visible && wired && visible !== wired) {
    visible.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      wired.click();
    });
  }
  fitEquationsOnceTypeset();
  openFiguresInADialog();
});

const MIN_SCALE = 0.8;

function fitEquations() {
  document.querySelectorAll('article mjx-container[display="true"]').forEach((box) => {
    if (box.dataset.fontSize === undefined) box.dataset.fontSize = box.style.fontSize || "";
    box.style.fontSize = box.dataset.fontSize;  // measure at the size MathJax gave it
    box.removeAttribute("tabindex");
    box.removeAttribute("role");
    box.removeAttribute("aria-label");
    if (box.clientWidth === 0 || box.scrollWidth <= box.clientWidth + 1) return;
    const ratio = (box.clientWidth - 2) / box.scrollWidth;
    if (ratio >= MIN_SCALE) {
      const base = parseFloat(box.dataset.fontSize) || 100;
      box.style.fontSize = `${(base * ratio).toFixed(2)}%`;
      if (box.scrollWidth <= box.clientWidth + 1) return;
    }
    const math = box.closest("div.math");
    const number = math && math.querySelector("span.eqno");
    const name = number ? `Equation ${number.textContent.trim()}` : "Equation";
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", `${name}, wider than the page: scroll sideways`);
  });
}

function fitEquationsOnceTypeset() {
  const mj = window.MathJax;
  if (!mj || !mj.startup || !mj.startup.promise) return;  // a page without math
  mj.startup.promise.then(fitEquations);
  let width = window.innerWidth;
  let timer = null;
  window.addEventListener("resize", () => {
    if (window.innerWidth === width) return;
    width = window.innerWidth;
    clearTimeout(timer);
    timer = setTimeout(fitEquations, 200);
  });
}

function openFiguresInADialog() {
  let dialog = null;
  let opener = null;
  const close = () => dialog.close();
  const make = () => {
    dialog = document.createElement("dialog");
    dialog.className = "figure-full";
    dialog.innerHTML = '<button type="button" class="figure-full-close">Close</button>'
      + '<div class="figure-full-scroll"><img alt=""></div>';
    dialog.querySelector("button").addEventListener("click", close);
    dialog.querySelector("img").addEventListener("click", close);
    dialog.addEventListener("close", () => opener && opener.focus());
    document.body.appendChild(dialog);
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.figure-open");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    const shown = link.querySelector("img");
    if (!shown) return;
    event.preventDefault();
    if (!dialog) make();
    const img = dialog.querySelector("img");
    img.src = link.href;
    img.alt = shown.alt;
    if (shown.naturalWidth) img.width = shown.naturalWidth;
    dialog.setAttribute("aria-label", shown.alt ? `Figure, full size: ${shown.alt}` : "Figure, full size");
    opener = link;
    dialog.showModal();
    dialog.querySelector("button").focus();
  });
}
