"""``openai:URL`` names a server whose one model is used: the spelling every command's --model
takes, against the real ``transformers serve`` of this folder's conftest."""

from __future__ import annotations

from pathlib import Path

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.models.openai_backend import OpenAIBackend


def test_a_server_url_is_its_one_model(chat_server: str, tiny_chat_model: Path) -> None:
    by_url = OpenAIBackend(chat_server)
    by_name = OpenAIBackend(str(tiny_chat_model), base_url=chat_server)
    assert by_url.client.model == str(tiny_chat_model)
    prompts = ["The nurse said that", "Maria is a chef in Berlin;"]
    assert by_url.generate(prompts, max_new_tokens=5) == by_name.generate(prompts, max_new_tokens=5)
    with pytest.raises(BiasInheritError, match="names a server and --base-url another"):
        OpenAIBackend(chat_server, base_url="http://127.0.0.1:9/v1")
