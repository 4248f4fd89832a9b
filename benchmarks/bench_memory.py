"""Memory of a learner's kernel after every lesson in sim mode (issue 18: <= 250 MB RSS).

All notebooks in ``notebooks/`` run in order in ONE ipykernel (``NETLAB_MODE=sim``,
matplotlib's Agg backend), as a learner working through the course would.  Reported:
the kernel's RSS after each lesson (where the memory goes, lesson by lesson), the
peak (VmHWM) and final RSS, beside baselines measured in the same run: a bare
kernel, a kernel that only ran ``import netlab as nl``, and a kernel that imported
every library the lessons had loaded by the end but ran no lesson (so the rest is
what the lessons' own objects hold).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

REQUIRES = ("py:nbclient", "py:nbformat", "py:ipykernel")
GOAL_MB = 250.0
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
_HEAVY = ("matplotlib", "pandas", "numpy", "scapy", "ipywidgets", "IPython", "networkx", "PIL",
          "scipy", "pyarrow", "plotly", "graphviz", "yaml", "jinja2")


def _mem_mb(pid: int, key: str = "VmHWM") -> tuple[float, float]:
    """(RSS, peak RSS -- or another /proc status field, e.g. VmPeak) of ``pid`` in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields[key].split()[0]) / 1024


class _Kernel:
    """One ipykernel started by nbclient in ``notebooks/``; cells run in it in turn."""

    def __init__(self) -> None:
        import nbformat
        from nbclient import NotebookClient

        self._nbformat = nbformat
        self.client = NotebookClient(nbformat.v4.new_notebook(), timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
        self._ctx = self.client.setup_kernel()

    def __enter__(self) -> _Kernel:
        self._ctx.__enter__()
        prov = self.client.km.provisioner
        self.pid = int(getattr(prov, "pid", None) or prov.process.pid)
        return self

    def __exit__(self, *exc: object) -> None:
        self._ctx.__exit__(None, None, None)

    def run(self, nb) -> None:  # noqa: ANN001
        """Execute every code cell of ``nb`` in this kernel (raises on a cell's error)."""
        self.client.nb = nb
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                self.client.execute_cell(cell, index)

    def code(self, source: str) -> str:
        """Run ``source`` and return what it printed."""
        nb = self._nbformat.v4.new_notebook()
        nb.cells = [self._nbformat.v4.new_code_cell(source)]
        self.run(nb)
        return "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("name") == "stdout")

    def mem(self) -> tuple[float, float]:
        return _mem_mb(self.pid)


def _baseline(source: str) -> tuple[float, float]:
    with _Kernel() as k:
        if source:
            k.code(source)
        return k.mem()


def main() -> None:
    import nbformat

    os.environ["NETLAB_MODE"] = "sim"
    os.environ["MPLBACKEND"] = "Agg"
    bare, _ = _baseline("")
    netlab_only, _ = _baseline("import netlab as nl")
    print(f"{'kernel':44} {'RSS MB':>8} {'peak MB':>8}")
    print(f"{'baseline: bare ipykernel':44} {bare:8.1f}")
    print(f"{'baseline: kernel + import netlab':44} {netlab_only:8.1f}")
    failures = []
    start = time.perf_counter()
    with _Kernel() as k:
        before = k.mem()[0]
        for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
            try:
                k.run(nbformat.read(path, as_version=4))
            except Exception as exc:  # noqa: BLE001 - a lesson's error is reported, the rest go on
                failures.append(f"{path.stem}: {type(exc).__name__}: {str(exc).splitlines()[-1][:120]}")
            rss, peak = k.mem()
            print(f"{'after ' + path.stem:44} {rss:8.1f} {peak:8.1f}  (+{rss - before:.1f})", flush=True)
            before = rss
        took = time.perf_counter() - start
        final, peak = k.mem()
        virtual = _mem_mb(k.pid, "VmPeak")[1]
        loaded_all = k.code("import sys; print(' '.join(sorted(sys.modules)))").split()
        loaded = sorted({m.split(".")[0] for m in loaded_all})
        count = k.code("import gc; print(len(gc.get_objects()))").strip()
    libs = [m for m in _HEAVY if m in loaded]
    # every module of those libraries the lessons had loaded (scapy.layers.l2 costs far more
    # than ``import scapy``: its import checks for cryptography and loads a MAC vendor table)
    mods = [m for m in loaded_all if m.split(".")[0] in libs and not m.split(".")[-1].startswith("_")]
    libs_only, _ = _baseline("import importlib, contextlib\nimport netlab as nl\n"
                             f"for m in {mods!r}:\n"
                             "    with contextlib.suppress(Exception):\n"
                             "        importlib.import_module(m)\n"
                             "from netlab.extras import defer_scapy_manuf\n"
                             "defer_scapy_manuf()  # as netlab's own scapy import does\n")
    print(f"{'baseline: kernel + the libraries the lessons load':44} {libs_only:8.1f}   ({', '.join(libs)})")
    verdict = "ok" if peak <= GOAL_MB and not failures else "OVER GOAL" if peak > GOAL_MB else "LESSON FAILED"
    print(f"{'all lessons in one kernel, final':44} {final:8.1f} {peak:8.1f}  goal peak <= {GOAL_MB:.0f} MB  "
          f"{verdict}  ({took:.0f} s)")
    print(f"  ratio to kernel + import netlab: final {final / netlab_only:.2f}x, peak {peak / netlab_only:.2f}x; "
          f"where it goes: interpreter+ipykernel {bare:.0f} MB, netlab import +{netlab_only - bare:.0f} MB, "
          f"other libraries +{libs_only - netlab_only:.0f} MB, lessons' own data +{final - libs_only:.0f} MB "
          f"({count} gc-tracked objects)")
    print(f"  peak virtual size (VmPeak) {virtual:.0f} MB: a `prlimit --as` cap must sit above it "
          "(deploy/jupyterhub/jupyterhub_config.py)")
    for failure in failures:
        print(f"  FAILED lesson {failure}")


if __name__ == "__main__":
    main()
