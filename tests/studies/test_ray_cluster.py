"""A real two-node Ray cluster on loopback, started as docs/studies.md says (`ray start --head`, then
`ray start --address`, with Ray's token authentication), runs the micro study through
`--executor ray --address`; its results table equals the local executor's.

Ray rewrites 127.0.0.1 and localhost in `ray start --address` to the machine's network
address (where a head kept on loopback does not listen), so the cluster uses 127.0.0.2, another
loopback address. Everything the test starts runs in its own process groups, with its own ports,
temp folder and home (where the token lives), and is stopped by process group at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

RAY = Path(sys.executable).with_name("ray")
HOST = "127.0.0.2"


def _free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _loopback_alias_works() -> bool:
    try:
        _free_port()
        return True
    except OSError:
        return False


def _table(run_dir: Path) -> pd.DataFrame:
    frame = pd.read_parquet(run_dir / "results.parquet")
    return frame.sort_values(["bias_type", "ratio", "mitigation", "seed", "task", "metric"]).reset_index(drop=True)


def _stop(groups: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pgid in groups:
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                pass
        time.sleep(2.0 if sig == signal.SIGTERM else 0)


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """(address, driver environment) of a head and one worker node, one CPU each."""
    tmp_path = tmp_path_factory.mktemp("ray-cluster")
    if not RAY.exists():
        pytest.skip("the ray command is not installed beside this Python")
    if not _loopback_alias_works():
        pytest.skip(f"{HOST} is not a loopback address here (Linux routes all of 127.0.0.0/8 to loopback)")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env.update(HOME=str(home), RAY_USAGE_STATS_ENABLED="0")
    subprocess.run([str(RAY), "get-auth-token", "--generate"], env=env, check=True, capture_output=True, timeout=120)
    assert (home / ".ray" / "auth_token").is_file()
    node_env = {**env, "RAY_AUTH_MODE": "token"}
    port = _free_port()
    groups: list[int] = []

    def start(*args: str) -> None:
        proc = subprocess.Popen([str(RAY), "start", *args, f"--node-ip-address={HOST}", "--num-cpus=1",
                                 f"--dashboard-agent-listen-port={_free_port()}", "--disable-usage-stats"],
                                env=node_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        groups.append(proc.pid)  # `ray start` leaves its daemons in this new process group
        out, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0, out[-3000:]

    ray_tmp = tempfile.mkdtemp(prefix="bi-ray-", dir="/tmp")  # Ray's socket paths must stay under 107 bytes
    try:
        start("--head", f"--port={port}", f"--temp-dir={ray_tmp}", "--include-dashboard=false",
              f"--dashboard-port={_free_port()}")
        start(f"--address={HOST}:{port}")
        yield f"{HOST}:{port}", env  # the driver gets no RAY_AUTH_MODE: it finds the token itself
    finally:
        _stop(groups)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def test_study_on_a_two_node_cluster_matches_local(ray_cluster, micro_run, micro_config, tmp_path, cli):
    address, env = ray_cluster
    nodes = subprocess.run(
        [sys.executable, "-c", "import sys, ray\nfrom biasinherit.studies.executors import start_ray\n"
         "start_ray(sys.argv[1]); print(sum(n['Alive'] for n in ray.nodes())); ray.shutdown()", address],
        env=env, capture_output=True, text=True, timeout=120)
    assert nodes.stdout.strip().splitlines()[-1:] == ["2"], nodes.stdout + nodes.stderr[-2000:]
    out = tmp_path / "cluster"
    proc = cli("study", "--config", micro_config, "--out", out, "--executor", "ray", "--address", address, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pd.testing.assert_frame_equal(_table(out), _table(micro_run))


def test_a_cluster_without_the_token_is_refused_in_one_line(ray_cluster, micro_config, tmp_path, cli):
    address, env = ray_cluster
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = cli("study", "--config", micro_config, "--out", tmp_path / "x", "--executor", "ray", "--address",
               address, env={**env, "HOME": str(elsewhere)})
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "requires a token" in lines[-1] and "Traceback" not in proc.stderr, proc.stderr[-3000:]
