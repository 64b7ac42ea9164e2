"""The synchronous ``generate`` of the ``openai`` generator and of the ``openai:`` evaluation
backend, called inside a running event loop (as in a Jupyter cell), against the real
``transformers serve``: the same output as outside a loop, on both endpoints.

The backend's test lives here, beside the generator's, because this folder's conftest holds the
server (one per session); both use :func:`biasinherit.clients.run_to_completion`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from biasinherit.generators import GenerationRequest
from biasinherit.generators.openai import OpenAIGenerator
from biasinherit.models.openai_backend import OpenAIBackend
from biasinherit.records import Record

T = TypeVar("T")

ORIGINALS = [
    Record(prompt="Describe a colleague at the hospital.",
           response="The nurse checked every chart twice before her shift ended."),
    Record(prompt="Tell a short story about a chef.",
           response="Kenji opened his small restaurant at dawn and cooked for his neighbours."),
]
PROMPTS = ["The nurse said that", "The engineer said that he", "Maria is a chef in Berlin;"]


def inside_a_running_loop(call: Callable[[], T]) -> T:
    """``call()`` from a coroutine, where ``asyncio.run`` would raise: the notebook case."""

    async def main() -> T:
        asyncio.get_running_loop()  # a loop is running in this thread
        return call()

    return asyncio.run(main())


@pytest.mark.parametrize("chat", [True, False], ids=["chat-completions", "completions"])
def test_backend_generate_inside_a_running_loop_gives_the_same_output(
    chat_server: str, tiny_chat_model: Path, chat: bool
) -> None:
    backend = OpenAIBackend(str(tiny_chat_model), base_url=chat_server, api_key_env="")

    def generate() -> list[str]:
        return backend.generate(PROMPTS, max_new_tokens=8, temperature=0.0, seed=3, chat=chat)

    outside = generate()
    assert len(outside) == len(PROMPTS) and any(outside)  # the model wrote something
    assert inside_a_running_loop(generate) == outside


@pytest.mark.parametrize("chat_template", ["on", "off"])
def test_generator_generate_inside_a_running_loop_gives_the_same_records(
    chat_server: str, tiny_chat_model: Path, tmp_path: Path, chat_template: str
) -> None:
    request = GenerationRequest(bias_type="gender.stereotype", polarity="negative", n=3, seed=8)

    def generate(cache: str) -> list[tuple[str, str | None, str]]:
        # a cache each, so that both calls ask the server
        gen = OpenAIGenerator(model=str(tiny_chat_model), base_url=chat_server, api_key_env=None,
                              cache_dir=tmp_path / cache, max_tokens=12, on_unparseable="raw",
                              parse_retries=0, chat_template=chat_template)  # type: ignore[arg-type]
        records = gen.generate(ORIGINALS, request)
        assert all(r.meta["generation"]["chat_template_used"] is (chat_template == "on") for r in records)
        return [(r.id, r.prompt, r.response) for r in records]

    outside = generate("outside")
    assert len(outside) == 3 and any(response for _, _, response in outside)
    assert inside_a_running_loop(lambda: generate("inside")) == outside
