// The "Check your derivation" form (book/_ext/checkform.py writes it). When the formula box first
// takes focus (or on the first Check) it starts checkform-worker.js, which loads the site's own
// Pyodide, NumPy and the book's wheels and runs backprop_lib.check.check_formula; every Check
// after that goes to the same worker. The verdict element (role="status") carries data-verdict:
// "pending" while a check runs, then "ok" or the slip's class ("sign", "factor", ...), or "error"
// when the checker itself could not answer; data-elapsed-ms holds the time from the click to the
// verdict (data-check-ms: check_formula's own share, in the worker), and the form's
// data-startup-ms the worker's start-up phases (see checkform-worker.js): what
// bench/checker_browser.py reports.
"use strict";
(() => {
  const FIRST_TIMEOUT_MS = 90000; // loading Python on a slow connection
  const CHECK_TIMEOUT_MS = 20000; // the checker answers any formula within 2 s on a desktop
  const LABELS = {
    ok: "right",
    sign: "sign slip",
    factor: "factor slip",
    transpose: "transpose slip",
    batch: "batch slip",
    shape: "shape slip",
    other: "not the gradient",
    unreadable: "could not read the formula",
  };

  // One worker for the page, started when the reader first focuses the formula box (Python loads
  // while they type) or, at the latest, on the first Check.
  let worker = null;
  let started = false;
  let nextId = 1;
  const waiting = new Map(); // id -> {resolve, reject, timer}

  function wheelsOf(form) {
    return (form.dataset.wheels || "").split(/\s+/).filter(Boolean).map((item) => {
      const [path, integrity] = item.split("#");
      return { url: new URL(path, document.baseURI).href, integrity };
    });
  }

  function failAll(message) {
    for (const [, w] of waiting) {
      clearTimeout(w.timer);
      w.reject(new Error(message));
    }
    waiting.clear();
  }

  function restart(message) {
    if (worker) worker.terminate();
    worker = null;
    started = false;
    failAll(message);
  }

  function ensureWorker(box) {
    if (worker) return;
    worker = new Worker(new URL(box.dataset.worker, document.baseURI).href);
    worker.onmessage = (event) => {
      const msg = event.data;
      if (msg.type === "error" && msg.id === undefined) {
        restart(msg.message);
        return;
      }
      const w = waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      clearTimeout(w.timer);
      if (msg.type === "verdict") {
        box.dataset.startupMs = JSON.stringify(msg.startup);
        w.resolve(msg);
      }
      else w.reject(new Error(msg.message));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      restart(event.message || "the checker's worker failed to start");
    };
    worker.postMessage({
      type: "init",
      pyodide: new URL(box.dataset.pyodide, document.baseURI).href,
      wheels: wheelsOf(box),
    });
  }

  function check(box, param, formula) {
    ensureWorker(box);
    const id = nextId++;
    const timeout = started ? CHECK_TIMEOUT_MS : FIRST_TIMEOUT_MS;
    started = true;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        restart("the check took too long and was stopped (the next Check starts the checker again)");
        reject(new Error("the check took too long and was stopped (the next Check starts the checker again)"));
      }, timeout);
      waiting.set(id, { resolve, reject, timer });
      worker.postMessage({ type: "check", id, model: box.dataset.model, param, formula });
    });
  }

  // 1.2e-09, as the book prints errors
  function formatError(x) {
    if (typeof x !== "number" || !isFinite(x)) return x === null || x === undefined ? "" : String(x);
    const [mantissa, exponent] = x.toExponential(1).split("e");
    const e = Number(exponent);
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }

  // parts: [class, text] paragraphs; a title's mark (✓ or ✗) is for the eye, its words say the same
  function show(status, verdict, parts, mark) {
    status.dataset.verdict = verdict;
    status.replaceChildren();
    for (const [cls, text] of parts) {
      if (!text) continue;
      const p = document.createElement("p");
      p.className = cls;
      if (mark && cls === "dc-title") {
        const span = document.createElement("span");
        span.setAttribute("aria-hidden", "true");
        span.textContent = `${mark} `;
        p.append(span);
      }
      p.append(text);
      status.append(p);
    }
  }

  function notebookCall(model, param, formula) {
    const text = formula || "…";
    const quoted = text.includes('"') ? `r'${text}'` : `r"${text}"`;
    return `from backprop_lib.check import check_formula; check_formula("${model}", "${param}", ${quoted})`;
  }

  // A typeset preview of typed LaTeX with the page's own MathJax (when the page has it).
  // as the checker reads it: a backslash, ^ or a brace, or subscripts in a formula with nothing of NumPy's
  function looksLikeLatex(text) {
    return /[\\^{]/.test(text) || (text.includes("_") && !/[@[\]'"]|\*\*|\.\w/.test(text));
  }

  function previewer(input, preview) {
    let timer = null;
    let serial = 0;
    return () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const tex = input.value.trim();
        const mj = window.MathJax;
        const mine = ++serial;
        if (!tex || !looksLikeLatex(tex) || !mj || !mj.tex2chtmlPromise) {
          preview.replaceChildren();
          return;
        }
        try {
          if (mj.startup && mj.startup.promise) await mj.startup.promise;
          mj.texReset();
          const node = await mj.tex2chtmlPromise(tex, { display: true });
          if (mine !== serial) return;
          preview.replaceChildren(node);
          mj.startup.document.clear();
          mj.startup.document.updateDocument();
          // the preview is for the eye only (the textbox holds the formula): keep it out of the tab order
          preview.querySelectorAll("[tabindex]").forEach((el) => el.setAttribute("tabindex", "-1"));
        } catch (err) {
          if (mine === serial) preview.replaceChildren();
        }
      }, 250);
    };
  }

  function setUp(box) {
    const form = box.querySelector("form");
    const select = form.querySelector("select");
    const input = form.querySelector("input[name=formula]");
    const status = form.querySelector("[role=status]");
    const preview = form.querySelector(".dc-preview");
    const runtime = box.dataset.runtime === "on" && typeof Worker !== "undefined";
    let latest = 0;

    // why the check cannot run here, when it cannot
    const missing = box.dataset.runtime !== "on"
      ? "The in-browser checker is not part of this build of the book."
      : "This browser cannot run the checker (it has no Web Workers).";
    show(status, "idle", [["dc-waiting", runtime
      ? "Python starts in this page when you first type a formula (a few seconds); later checks are quick."
      : `${missing} In a notebook: ${notebookCall(box.dataset.model, select.value, "")}`]]);

    if (preview) input.addEventListener("input", previewer(input, preview));
    if (runtime) input.addEventListener("focus", () => ensureWorker(box), { once: true });
    form.querySelector("button[type=submit]").disabled = false; // off in the page as written: it needs this script

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const formula = input.value.trim();
      const param = select.value;
      if (!formula) {
        show(status, "empty", [["dc-message", "Type a formula first."]]);
        input.focus();
        return;
      }
      if (!runtime) {
        show(status, "unavailable", [
          ["dc-message", `${missing} Run the same check in a notebook:`],
          ["dc-code", notebookCall(box.dataset.model, param, formula)],
        ]);
        return;
      }
      const mine = ++latest;
      const firstTime = !started;
      const t0 = performance.now();
      status.removeAttribute("data-elapsed-ms");
      status.removeAttribute("data-check-ms");
      show(status, "pending", [["dc-message", firstTime
        ? "Checking… (starting Python in this page first: a few seconds)"
        : "Checking…"]]);
      try {
        const answer = await check(box, param, formula);
        if (mine !== latest) return;
        const v = answer.verdict;
        status.dataset.checkMs = String(answer.ms);
        const label = LABELS[v.ok ? "ok" : v.slip] || v.slip;
        const known = v.max_error !== null && v.max_error !== undefined;
        const error = known ? `largest relative error ${formatError(v.max_error)}` : "";
        show(status, v.ok ? "ok" : v.slip, [
          ["dc-title", `${v.param || param}: ${label}`],
          ["dc-message", v.message],
          ["dc-error", error],
        ], v.ok ? "✓" : "✗");
      } catch (err) {
        if (mine !== latest) return;
        show(status, "error", [["dc-message", `The checker could not answer: ${err.message}`]]);
      }
      status.dataset.elapsedMs = String(Math.round(performance.now() - t0));
    });
  }

  function init() {
    document.querySelectorAll(".derivation-check").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
