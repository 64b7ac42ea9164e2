"""The client package sits below the generators and the evaluation backends: the ``openai:``
backend imports nothing from ``biasinherit.generators``, and the client nothing from either."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import biasinherit

PACKAGE = Path(biasinherit.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_backend_and_the_client_import_nothing_from_above_them_in_their_source() -> None:
    backend = imported_modules(PACKAGE / "models" / "openai_backend.py")
    assert "biasinherit.clients.openai" in backend
    assert not [m for m in backend if m.startswith("biasinherit.generators")]
    for path in sorted((PACKAGE / "clients").glob("*.py")):
        assert not [m for m in imported_modules(path) if m.startswith(("biasinherit.generators",
                                                                       "biasinherit.models"))], path


def test_using_the_backend_loads_no_generator_module() -> None:
    # built and used (a request to a port where nothing listens), as an evaluation would
    code = (
        "import sys\n"
        "from biasinherit.errors import BiasInheritError\n"
        "from biasinherit.models.openai_backend import OpenAIBackend\n"
        "import socket\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()\n"
        "backend = OpenAIBackend('m', base_url=f'http://127.0.0.1:{port}/v1', api_key_env='')\n"
        "try:\n"
        "    backend.generate(['x'])\n"
        "except BiasInheritError as exc:\n"
        "    assert 'cannot connect' in str(exc), exc\n"
        "print([m for m in sys.modules if m.startswith('biasinherit.generators')])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    proc = subprocess.run([sys.executable, "-c", "import sys, biasinherit.clients; print(sorted(m for m in "
                           "sys.modules if m.startswith(('biasinherit.generators', 'biasinherit.models'))))"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr
