"""``generate --generator openai`` says each retry on stderr as it happens, also when stderr is not
a terminal, and a local server that is not running is said at once (no retries)."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from biasinherit.corpora import CorpusConfig, build_corpus
from biasinherit.records import write_jsonl


@pytest.fixture()
def failing_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 that answers every POST with 503."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = b'{"error": "overloaded"}'
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _generate(corpus: Path, base_url: str, out: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "biasinherit", "generate", "--generator", "openai", "--model", "m",
         "--api-key-env", "", "--base-url", base_url, "--input", str(corpus), "--n", "1", "--max-retries", "2",
         "--cache-dir", str(tmp_path / "cache"), "--out", str(out)],
        capture_output=True, text=True, timeout=120)


def test_each_retry_is_said_and_the_failure_is_one_line(failing_server: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(build_corpus(CorpusConfig(size=10, seed=0)), corpus)
    proc = _generate(corpus, failing_server, tmp_path / "aug.jsonl", tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    retries = [line for line in lines if "HTTP 503; retry" in line]
    assert [r.split("retry ")[1].split(" in ")[0] for r in retries] == ["1 of 2", "2 of 2"], proc.stderr
    assert lines[-1].startswith("error: 1 of 1 requests") and "Traceback" not in proc.stderr
    assert not (tmp_path / "aug.jsonl").exists()


def test_a_local_server_that_is_not_running_is_said_at_once(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(build_corpus(CorpusConfig(size=10, seed=0)), corpus)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    started = time.perf_counter()
    proc = _generate(corpus, f"http://127.0.0.1:{port}/v1", tmp_path / "aug.jsonl", tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "refused" in lines[0] and "retry" not in proc.stderr
    assert time.perf_counter() - started < 30  # no backoff: 8 retries used to take ~2 minutes
