// The "Check your derivation" form's Python (a classic Web Worker, started by checkform.js).
//
// {type: "init", pyodide, wheels}: load Pyodide from the site's own folder `pyodide` (its
// pyodide.js, then NumPy with loadPackage, checked by Pyodide against the folder's
// pyodide-lock.json) and unpack the wheels [{url, integrity}] into site-packages; the browser
// checks each wheel's SHA-256 (fetch's integrity) before Python sees it. No micropip, no other host.
// {type: "check", id, model, param, formula}: answers {type: "verdict", id, verdict, ms, startup}, where
// verdict is backprop_lib.check.check_formula(model, param, formula).as_dict(), or
// {type: "error", id, message}; ms is the check's own time, startup the times (ms from the init
// message) at which Pyodide, NumPy, the wheels and the checker's import were ready. An init that
// fails answers {type: "error", message}.
"use strict";

let ready = null;
const startup = {}; // ms from the init message to the end of each phase (sent with the first verdict)

async function start({ pyodide: indexURL, wheels }) {
  const t0 = performance.now();
  const mark = (phase) => { startup[phase] = Math.round(performance.now() - t0); };
  // the wheels download while Python starts
  const downloads = wheels.map(({ url, integrity }) => {
    const name = url.split("/").pop();
    return fetch(url, integrity ? { integrity } : {}).then((r) => {
      if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }, (err) => {
      throw new Error(`${name} could not be fetched, or is not the file this page was built with (${err.message})`);
    });
  });
  downloads.forEach((d) => d.catch(() => {})); // reported below, once
  importScripts(`${indexURL}pyodide.js`);
  const pyodide = await loadPyodide({ indexURL, stdout: () => {}, stderr: (line) => console.warn(line) });
  mark("pyodide");
  await pyodide.loadPackage("numpy", { messageCallback: () => {} });
  mark("numpy");
  const sitePackages = pyodide.runPython("import sys; [p for p in sys.path if p.endswith('site-packages')][0]");
  const buffers = await Promise.all(downloads);
  buffers.forEach((buffer) => pyodide.unpackArchive(buffer, "wheel", { extractDir: sitePackages }));
  mark("wheels");
  const check = pyodide.runPython(`
import importlib, json
importlib.invalidate_caches()
from backprop_lib.check import check_formula
from backprop_lib import _latex
from backprop_lib.models import MODELS
for _model in MODELS.values():  # the grammar's tables (one per set of function letters), built while the reader types
    _latex._parser(tuple(sorted(_model.functions.items())))

def _check(model, param, formula):
    return json.dumps(check_formula(model, param, formula).as_dict())

_check
`);
  mark("import");
  return check;
}

self.onmessage = async (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    ready = ready || start(msg);
    ready.catch((err) => self.postMessage({ type: "error", message: `Python did not start: ${err.message || err}` }));
    return;
  }
  if (msg.type !== "check") return;
  try {
    const check = await ready;
    const t0 = performance.now();
    const verdict = JSON.parse(check(msg.model, msg.param, msg.formula));
    self.postMessage({ type: "verdict", id: msg.id, verdict, ms: Math.round(performance.now() - t0), startup });
  } catch (err) {
    // a Python exception's message is its traceback: its last line says what went wrong
    const lines = String((err && err.message) || err).trim().split("\n");
    self.postMessage({ type: "error", id: msg.id, message: lines[lines.length - 1] });
  }
};
