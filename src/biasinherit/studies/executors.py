"""Executors run cells: ``local`` (this process, one after another) or ``ray`` (one Ray task per
cell, on a local Ray or a cluster). Both call :func:`compute_cell` with the same inputs, so their
results are identical; the driver writes every result file.

On Ray a cell asks for ``[executor] gpus_per_cell`` GPUs (:func:`gpus_per_cell`): Ray runs as
many cells at once as the GPUs allow, gives each its own (``CUDA_VISIBLE_DEVICES``), and the cell
runs on them (:func:`biasinherit.studies.cell.cell_device`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from biasinherit.errors import BiasInheritError, unknown_name_error
from biasinherit.records import Record
from biasinherit.studies.cell import compute_cell
from biasinherit.studies.grid import Cell

log = logging.getLogger(__name__)

CellInputs = Callable[[Cell], tuple[list[Record], list[Record]]]
CellProgress = Callable[[Cell, int, int, float], None]


def run_local(cells: Sequence[Cell], config_data: dict[str, Any], inputs: CellInputs, *,
              model_dir: Callable[[Cell], str | None], progress: CellProgress | None = None,
              workers: int = 1, base: Path | None = None) -> Iterator[tuple[Cell, dict[str, Any]]]:
    """Cells in this process (``workers=1``) or in a pool of worker processes; results come
    back as each cell finishes. ``base``: the model folder every cell fine-tunes."""
    base_spec = None if base is None else str(base)
    if workers <= 1 or len(cells) <= 1:
        for cell in cells:
            original, augmented = inputs(cell)
            step = (lambda s, t, loss, c=cell: progress(c, s, t, loss)) if progress else None
            yield cell, compute_cell(cell, config_data, original, augmented, base=base_spec,
                                     model_dir=model_dir(cell), progress=step)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn, not fork: torch and tokenizers threads do not survive a fork
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_ignore_interrupts)
    try:
        pending = {}
        # the workers start on the first submit: started with Ctrl-C ignored (a disposition a
        # new process keeps), one still importing when Ctrl-C comes prints no traceback
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for cell in cells:
                original, augmented = inputs(cell)
                future = pool.submit(compute_cell, cell, config_data, original, augmented, base=base_spec,
                                     model_dir=model_dir(cell))
                pending[future] = cell
        finally:
            signal.signal(signal.SIGINT, previous)
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
    except BaseException:
        # Ctrl-C, an error, or the caller stopped: the workers' cells are abandoned (their
        # results were never written), so stop them now rather than wait for them
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=10)
        pool.shutdown(wait=True, cancel_futures=True)  # quick now; releases the pool's semaphores
        raise
    pool.shutdown()


def _ignore_interrupts() -> None:
    """Workers leave Ctrl-C to the driver, which stops them (a terminal sends it to them too)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _needs_gpu(config_data: dict[str, Any]) -> bool:
    """The default without ``gpus_per_cell``: a GPU for an hf: model where the cluster has one,
    or for a [model] device of cuda."""
    model = config_data.get("model", {})
    device = str(model.get("device", "auto"))
    return device.startswith("cuda") or (device == "auto" and str(model.get("model", "")).startswith("hf:")
                                         and _cluster_has_gpu())


def _cluster_has_gpu() -> bool:
    import ray

    return bool(ray.cluster_resources().get("GPU", 0))


def _most_gpus_on_a_node() -> float:
    """A cell's GPUs must all be on one node: the most any live node of the cluster has."""
    import ray

    return max((float(n.get("Resources", {}).get("GPU", 0)) for n in ray.nodes() if n.get("Alive")), default=0.0)


def gpus_per_cell(config_data: dict[str, Any]) -> float:
    """GPUs each cell asks Ray for: ``[executor] gpus_per_cell``, else :func:`_needs_gpu`'s default
    (connected to the cluster, which the default and the checks ask about).

    Refused at once rather than found out later: a request no node can meet (Ray would keep the
    cells waiting for ever), a cuda device with no GPU asked for, and ``cuda:N`` beyond the GPUs
    a cell sees (Ray's ``CUDA_VISIBLE_DEVICES`` numbers a cell's own GPUs from 0).
    """
    asked = config_data.get("executor", {}).get("gpus_per_cell")
    gpus = float(asked) if asked is not None else (1.0 if _needs_gpu(config_data) else 0.0)
    device = str(config_data.get("model", {}).get("device", "auto"))
    field = "executor.gpus_per_cell"
    if device.startswith("cuda"):
        if gpus == 0:
            raise BiasInheritError(f"model.device is '{device}' but executor.gpus_per_cell is 0: a cell would use "
                                   "a GPU Ray did not give it (ask for GPUs, or use device auto or cpu)", field=field)
        index = device.partition(":")[2]
        seen = max(1, int(gpus))
        if index.isdigit() and int(index) >= seen:
            raise BiasInheritError(f"model.device is '{device}' but a cell sees {seen} GPU(s), numbered from cuda:0 "
                                   "(Ray sets CUDA_VISIBLE_DEVICES per cell): use device cuda or auto",
                                   field="model.device")
    if gpus > 0:
        most = _most_gpus_on_a_node()
        if gpus > most:
            where = "no node of the Ray cluster has a GPU" if most == 0 else \
                f"no node of the Ray cluster has more than {most:g}"
            raise BiasInheritError(f"each cell asks for {gpus:g} GPU(s) but {where}: its cells would wait for ever "
                                   "(a node declares its GPUs with 'ray start --num-gpus N')", field=field)
    return gpus


def _ray_cell(cell: Cell, config_data: dict[str, Any], original: list[Record], augmented: list[Record], *,
              base: Any, model_dir: str | None) -> dict[str, Any]:
    """:func:`compute_cell` in a Ray task, on the GPUs Ray gave it (none: the CPU)."""
    import ray

    gpus = [str(i) for i in ray.get_gpu_ids()]
    return compute_cell(cell, config_data, original, augmented, base=base, model_dir=model_dir, gpus=gpus)


def _parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise BiasInheritError(f"expected HOST:PORT (the address 'ray start --head' printed), got '{address}'",
                               field="--address")
    return host.strip("[]"), int(port)


def _loopback_ip(host: str) -> str | None:
    import ipaddress

    if host == "localhost":
        return "127.0.0.1"
    try:
        return host if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


def _refused(host: str, port: int) -> str | None:
    """None when something listens at host:port, else why not (said at once: Ray itself would
    retry for minutes)."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=5.0):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def _machine_address() -> str | None:
    """This machine's outgoing network address (what Ray calls the node's address)."""
    import socket

    with contextlib.suppress(OSError):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
            address = str(s.getsockname()[0])
            return None if address.startswith("127.") else address
    return None


def _route(address: str) -> tuple[str, str | None]:
    """``(address to join, loopback node address or None)``, or a one-line error when nothing
    listens (Ray itself would retry for minutes).

    Ray replaces 127.0.0.1 and localhost by the machine's address. That is right for a head on
    the machine's address (it listens on every interface), wrong for a head kept on loopback
    (``--node-ip-address=127.0.0.1``), which only loopback reaches: then the loopback address
    is kept, and this process joins as a node on it.
    """
    host, port = _parse_address(address)
    loopback = _loopback_ip(host)
    if loopback is None:
        why = _refused(host, port)
        if why is None:
            return f"{host}:{port}", None
    else:
        machine = _machine_address()
        if host in ("127.0.0.1", "localhost") and machine and _refused(machine, port) is None:
            return f"{machine}:{port}", None
        why = _refused(loopback, port)
        if why is None:
            return f"{loopback}:{port}", loopback
    raise BiasInheritError(f"cannot reach the Ray cluster at {address} ({why}): is 'ray start --head "
                           f"--port {port}' running there?", field="--address")


def check_ray_address(address: str) -> None:
    """Refuse a malformed address, or one where nothing listens, before any work."""
    _route(address)


def ray_token_available() -> bool:
    """Is a Ray token on this machine (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH``, or the file
    ``ray start --head`` and ``ray get-auth-token --generate`` use, ``~/.ray/auth_token``)?"""
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    return Path(path or Path.home() / ".ray" / "auth_token").expanduser().is_file()


def _connect(address: str, runtime_env: dict[str, Any]) -> None:
    """Join the cluster at ``address`` as a driver (this machine must be one of its nodes).

    Ray's token authentication: the head of a cluster started with a token checks it on every
    connection, and a driver sends one only under ``RAY_AUTH_MODE=token``; with the token on
    this machine and no mode chosen, token mode is used (a cluster without authentication
    accepts it too). A loopback address stays on loopback: Ray would otherwise replace
    127.0.0.1 by the machine's network address, where a head started with
    ``--node-ip-address=127.0.0.1`` does not listen.
    """
    if "RAY_AUTH_MODE" not in os.environ and ray_token_available():
        import sys

        os.environ["RAY_AUTH_MODE"] = "token"  # read when Ray is imported, before anything connects
        if "ray" in sys.modules:  # imported earlier in this process: let its configuration see it
            with contextlib.suppress(Exception):
                from ray._raylet import Config

                Config.initialize("")
    import ray
    import ray._private.ray_constants as ray_constants

    target, node_ip = _route(address)
    options: dict[str, Any] = {"_node_ip_address": node_ip} if node_ip else {}
    import tempfile

    saved_cluster, saved_retries = ray_constants.ENABLE_RAY_CLUSTER, ray_constants.NUM_REDIS_GET_RETRIES
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        # Ray's core logs its connection retries straight to file descriptor 2: keep them
        # for the diagnosis below instead of printing dozens of lines
        os.dup2(captured.fileno(), 2)
        try:
            if "_node_ip_address" in options:
                ray_constants.ENABLE_RAY_CLUSTER = False  # keep 127.0.0.1 as given
            # the head answered above, so a refusal now (a token) is final: ~8 s of Ray's
            # retries instead of its default 20
            ray_constants.NUM_REDIS_GET_RETRIES = min(saved_retries, 8)
            ray.init(address=target, runtime_env=runtime_env, log_to_driver=False,
                     logging_level=logging.WARNING, **options)
        except (ConnectionError, RuntimeError) as exc:
            captured.seek(0)
            log_text = captured.read().decode("utf-8", "replace")
            raise BiasInheritError(_connect_failure(address, exc, log_text), field="--address") from None
        finally:
            ray_constants.ENABLE_RAY_CLUSTER, ray_constants.NUM_REDIS_GET_RETRIES = saved_cluster, saved_retries
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)


def _connect_failure(address: str, exc: Exception, log_text: str) -> str:
    if "InvalidAuthToken" in log_text or "Unauthenticated" in log_text or "token" in str(exc).lower():
        if ray_token_available() and os.environ.get("RAY_AUTH_MODE", "").lower() == "token":
            return (f"the Ray cluster at {address} refused this machine's token: use the head's "
                    "~/.ray/auth_token (or RAY_AUTH_TOKEN)")
        return (f"the Ray cluster at {address} requires a token: copy the head's ~/.ray/auth_token to this "
                "machine (or export RAY_AUTH_TOKEN) and run again")
    reason = " ".join(str(exc).split())[:200]
    return f"cannot join the Ray cluster at {address} ({reason}); run the study on one of its nodes"


def start_ray(address: str | None) -> bool:
    """Connect to ``address`` or start a local Ray kept on 127.0.0.1; True if started here."""
    import sys

    if "ray" in sys.modules and sys.modules["ray"].is_initialized():
        return False
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import biasinherit

    package_dir = str(Path(biasinherit.__file__).resolve().parent)
    if address:
        # workers elsewhere get this package's code shipped with the job
        _connect(address, {"py_modules": [package_dir]})
        return True
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    try:
        ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
                 log_to_driver=False, logging_level=logging.WARNING,
                 num_cpus=os.cpu_count() or 1)
    except ConnectionError as exc:
        raise BiasInheritError(f"cannot start a local Ray ({exc})", field="--executor") from None
    return True


def run_ray(cells: Sequence[Cell], config_data: dict[str, Any], inputs: CellInputs, *,
            model_dir: Callable[[Cell], str | None], address: str | None = None,
            threads: int = 1, progress: CellProgress | None = None, base: Path | None = None,
            ) -> Iterator[tuple[Cell, dict[str, Any]]]:
    """One Ray task per cell asking for ``threads`` CPUs and :func:`gpus_per_cell` GPUs; the base
    model travels as bytes (workers need no shared disk)."""
    import ray

    from biasinherit.studies.cell import base_files

    started = start_ray(address)
    try:
        # GPUs in the decorator, not in .options(): Ray then runs each GPU cell in a fresh worker
        # (max_calls=1), whose torch sees that cell's CUDA_VISIBLE_DEVICES (a reused worker's
        # CUDA would stay on the GPU of its first cell)
        gpus = gpus_per_cell(config_data)
        remote: Any = ray.remote(num_cpus=threads, num_gpus=gpus, max_retries=1)(_ray_cell)  # type: ignore[arg-type]
        config_ref = ray.put(config_data)
        base_ref = None if base is None else ray.put(base_files(base))
        shared: dict[tuple[str, ...], Any] = {}
        pending: dict[Any, Cell] = {}
        for cell in cells:
            original, augmented = inputs(cell)
            key = ("orig",)
            if key not in shared:
                shared[key] = ray.put(original)
            aug_key = ("aug", cell.bias_type)
            if aug_key not in shared:
                shared[aug_key] = ray.put(augmented)
            ref = remote.remote(cell, config_ref, shared[key], shared[aug_key], base=base_ref,
                                model_dir=model_dir(cell))
            pending[ref] = cell
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            cell = pending.pop(done[0])
            yield cell, ray.get(done[0])
    finally:
        if started:
            ray.shutdown()


EXECUTORS = ("local", "ray")


def check_executor(name: str) -> None:
    if name not in EXECUTORS:
        raise unknown_name_error("executor", name, EXECUTORS)
