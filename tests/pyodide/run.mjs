// Run tests/pyodide/smoke.py in Pyodide under Node, with netlab installed from its wheel by
// unpacking it into site-packages (no micropip, no network: the base install's pure-Python
// parts only). Usage: node run.mjs PYODIDE_DIR WHEEL SMOKE_PY DATA_DIR
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, wheel, smoke, data] = process.argv.slice(2);
const t0 = performance.now();
const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
const py = await loadPyodide({ indexURL: pyodideDir + "/", stdout: (s) => console.log(s),
                               stderr: (s) => console.error(s) });
const tLoad = performance.now();
py.FS.mkdirTree("/data");
py.FS.mount(py.FS.filesystems.NODEFS, { root: data }, "/data");
py.FS.writeFile("/tmp/netlab.whl", readFileSync(wheel));
py.FS.writeFile("/tmp/smoke.py", readFileSync(smoke));
await py.runPythonAsync(`
import site, sys, zipfile
zipfile.ZipFile("/tmp/netlab.whl").extractall(site.getsitepackages()[0])
sys.argv = ["smoke.py", "/data", "/tmp"]
`);
const tInstall = performance.now();
await py.runPythonAsync(`
import runpy
runpy.run_path("/tmp/smoke.py", run_name="__main__")
`);
const tRun = performance.now();
console.log("NODE-TIMES " + JSON.stringify({
  load_pyodide: +((tLoad - t0) / 1000).toFixed(3),
  install_wheel: +((tInstall - tLoad) / 1000).toFixed(3),
  smoke: +((tRun - tInstall) / 1000).toFixed(3),
  python: py.runPython("import sys; sys.version.split()[0]"),
}));
