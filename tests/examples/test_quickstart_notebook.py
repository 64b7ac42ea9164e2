"""``examples/quickstart.ipynb`` runs top to bottom in a real Jupyter kernel (nbclient).

The kernel runs an event loop of its own, so this also shows that the API works inside a running
event loop, as it must in Jupyter.
"""

from __future__ import annotations

from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"


def test_quickstart_notebook_runs(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), \
        "the notebook is committed without outputs"
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert not errors, errors
    assert (tmp_path / "quickstart-out" / "mix" / "README.md").exists()
    assert (tmp_path / "quickstart-out" / "study" / "report.html").exists()
    # the study's findings were shown as a table
    shown = "".join(str(o.get("data", {}).get("text/html", "")) for o in nb.cells[-3].outputs)
    assert "q_value" in shown
