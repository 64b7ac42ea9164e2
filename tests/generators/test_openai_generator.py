"""The ``openai`` generator against a real ``transformers serve`` and a fault-injecting proxy."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from biasinherit.errors import BiasInheritError
from biasinherit.generators import GenerationRequest, get_generator
from biasinherit.generators.cache import RequestCache
from biasinherit.generators.openai import OpenAIGenerator
from biasinherit.generators.prompts import plan_outputs
from biasinherit.records import Record, load_records, write_jsonl
from biasinherit.taxonomy import load_taxonomy

ORIGINALS = [
    Record(prompt="Describe a colleague at the hospital.",
           response="The nurse checked every chart twice before her shift ended."),
    Record(prompt="Write one sentence about an engineer.",
           response="The engineer explained the bridge design to the city council."),
    Record(prompt="Tell a short story about a chef.",
           response="Kenji opened his small restaurant at dawn and cooked for his neighbours."),
    Record(prompt=None, response="A teacher in Lagos started a reading club for her students."),
]
MAX_TOKENS = 16


def make_generator(base_url: str, model: Path, cache_dir: Path, **options: Any) -> OpenAIGenerator:
    settings: dict[str, Any] = dict(
        model=str(model), base_url=base_url, api_key_env=None, cache_dir=cache_dir,
        max_tokens=MAX_TOKENS, on_unparseable="raw", concurrency=4, timeout=20,
        backoff_base=0.05, backoff_max=0.2, parse_retries=0,
    )
    settings.update(options)
    return OpenAIGenerator(**settings)


def test_real_server_plain_and_biased_requests_arrive_in_plan_order(
    fault_proxy: Any, tiny_chat_model: Path, tmp_path: Path
) -> None:
    taxonomy = load_taxonomy()
    proxy = fault_proxy()  # no faults: it counts the requests that reach the real server
    for request in (GenerationRequest(n=6, seed=3),
                    GenerationRequest(bias_type="gender.stereotype", polarity="negative", n=6, seed=4)):
        seen: list[int] = []
        gen = make_generator(proxy.base_url, tiny_chat_model, tmp_path / "cache")
        records = gen.generate(ORIGINALS, request, progress=lambda done, total: seen.append(done))
        plans = plan_outputs(ORIGINALS, request, taxonomy)
        assert len(records) == request.n
        assert [r.meta["generation"]["output_index"] for r in records] == list(range(request.n))
        assert [r.meta["seed_id"] for r in records] == [p.original.id for p in plans]
        assert [r.bias_type for r in records] == [p.bias_type for p in plans]
        assert len({r.id for r in records}) == request.n
        assert all(r.source == "augmented" for r in records)
        # raw mode keeps every reply: a rewrite, or the raw text marked as not parsed
        assert all(r.meta.get("parse_failed") is True or r.meta["generation"]["reply_format"] == "rewrite"
                   for r in records)
        assert seen[-1] == request.n
        assert records[0].meta["generation"]["generator"] == "openai"
        assert records[0].meta["generation"]["arguments"]["api_key_env"] is None
        # the same request again (to the same server: the cache is keyed by it) is served
        # entirely from the cache
        posts = proxy.posts
        again = make_generator(proxy.base_url, tiny_chat_model, tmp_path / "cache", max_retries=0)
        assert [(r.id, r.prompt, r.response) for r in again.generate(ORIGINALS, request)] == \
            [(r.id, r.prompt, r.response) for r in records]
        assert proxy.posts == posts
    biased = [r for r in records if r.bias_type is not None]
    assert biased and all(r.meta["generation"]["target"]["polarity"] == "negative" for r in biased)


def test_sync_generate_works_inside_a_running_event_loop(
    chat_server: str, tiny_chat_model: Path, tmp_path: Path
) -> None:
    import asyncio

    gen = make_generator(chat_server, tiny_chat_model, tmp_path / "cache")
    request = GenerationRequest(n=2, seed=5)

    async def inside_loop() -> list[Record]:
        return gen.generate(ORIGINALS, request)

    assert len(asyncio.run(inside_loop())) == 2


def test_every_record_arrives_exactly_once_under_injected_faults(
    fault_proxy: Any, tiny_chat_model: Path, tmp_path: Path
) -> None:
    timeout = 3.0  # above the server's time per request even on a busy machine
    proxy = fault_proxy(fault_rate=0.3, seed=7, hang_seconds=timeout + 0.5,
                        script=("drop", "429", "500", "hang", "truncate"))
    request = GenerationRequest(bias_type="culture.association", intensity=0.5, n=24, seed=11)
    cache = RequestCache(tmp_path / "cache")
    gen = make_generator(proxy.base_url, tiny_chat_model, cache.root, timeout=timeout)
    records = gen.generate(ORIGINALS, request)

    plans = plan_outputs(ORIGINALS, request, load_taxonomy())
    assert [r.meta["generation"]["output_index"] for r in records] == list(range(24))
    assert [r.meta["seed_id"] for r in records] == [p.original.id for p in plans]
    assert [r.meta["generation"]["seed"] for r in records] == [p.seed for p in plans]
    assert len({r.id for r in records}) == 24
    assert len(cache) == 24  # one entry per request, none doubled by a retry
    assert set(proxy.faults) == {"drop", "429", "500", "hang", "truncate"}
    assert sum(proxy.faults.values()) >= 5 + 1  # the script plus at least one random fault
    # every fault cost a retry (a slow server answering after the timeout may cost more)
    assert proxy.posts >= 24 + sum(proxy.faults.values())
    assert {body["seed"] for body in proxy.bodies} >= {p.seed for p in plans}


def test_retry_after_is_honoured(fault_proxy: Any, tiny_chat_model: Path, tmp_path: Path) -> None:
    proxy = fault_proxy(script=("429",), retry_after="1")
    gen = make_generator(proxy.base_url, tiny_chat_model, tmp_path / "cache",
                         backoff_base=0.01, backoff_max=0.01)
    start = time.monotonic()
    assert len(gen.generate(ORIGINALS, GenerationRequest(n=1, seed=1))) == 1
    assert time.monotonic() - start >= 1.0  # backoff alone would have waited <= 0.01 s
    assert proxy.posts == 2


def test_exhausted_retries_name_how_many_requests_failed(
    fault_proxy: Any, tiny_chat_model: Path, tmp_path: Path
) -> None:
    proxy = fault_proxy(fault_rate=1.0, faults=("500",))
    gen = make_generator(proxy.base_url, tiny_chat_model, tmp_path / "cache", max_retries=2)
    with pytest.raises(BiasInheritError, match=r"3 of 3 requests .* failed .*3 attempts.*HTTP 500"):
        gen.generate(ORIGINALS, GenerationRequest(n=3, seed=1))
    assert proxy.posts == 9


def test_unparseable_replies_get_bounded_new_tries_then_a_count(
    fault_proxy: Any, tiny_chat_model: Path, tmp_path: Path
) -> None:
    proxy = fault_proxy()  # no faults: the random tiny model itself never writes the JSON object
    cache = RequestCache(tmp_path / "cache")
    gen = make_generator(proxy.base_url, tiny_chat_model, cache.root, max_retries=5, parse_retries=2,
                         on_unparseable="error", request_style="example", backoff_base=5.0)
    start = time.monotonic()
    with pytest.raises(BiasInheritError, match=r"^2 of 2 replies .* did not parse \(example request\) "
                                               r"after up to 3 attempts each"):
        gen.generate(ORIGINALS, GenerationRequest(n=2, seed=2))
    assert time.monotonic() - start < 30  # no backoff (5 s base) is spent on unparseable replies
    assert proxy.posts == 6  # 1 + 2 new tries each, not max_retries
    by_request: dict[str, list[int]] = {}
    for body in proxy.bodies:
        by_request.setdefault(body["messages"][0]["content"], []).append(body["seed"])
    assert all(seeds == [seeds[0], seeds[0] + 1, seeds[0] + 2] for seeds in by_request.values())
    assert len(cache) == 2  # the final replies are kept: the same request would get them again
    # a rerun (to the same server: the cache is keyed by it) sends nothing, and raw mode keeps
    # the replies, marked
    again = make_generator(proxy.base_url, tiny_chat_model, cache.root, max_retries=0,
                           request_style="example")
    records = again.generate(ORIGINALS, GenerationRequest(n=2, seed=2))
    assert all(r.meta["parse_failed"] is True for r in records)
    assert proxy.posts == 6


def run_cli(args: list[str], env: dict[str, str] | None = None, **kwargs: Any) -> Any:
    command = [str(Path(sys.executable).parent / "biasinherit"), "generate", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})}, **kwargs)


def cli_args(base_url: str, model: Path, tmp_path: Path, n: int, *extra: str) -> list[str]:
    originals = tmp_path / "originals.jsonl"
    if not originals.exists():
        write_jsonl(ORIGINALS, originals)
    return ["--generator", "openai", "--input", str(originals), "--out", str(tmp_path / "out.jsonl"),
            "--model", str(model), "--base-url", base_url, "--cache-dir", str(tmp_path / "cache"),
            "--n", str(n), "--seed", "9", "--max-new-tokens", str(MAX_TOKENS),
            "--on-unparseable", "raw", "--parse-retries", "0", *extra]


def test_killed_run_resumes_sending_only_the_missing_requests(
    fault_proxy: Any, tiny_chat_model: Path, tmp_path: Path
) -> None:
    n = 12
    proxy = fault_proxy(delay=0.25)
    cache = RequestCache(tmp_path / "cache")
    args = cli_args(proxy.base_url, tiny_chat_model, tmp_path, n, "--concurrency", "1",
                    "--bias-type", "gender.representation", "--api-key-env", "")
    first = run_cli(args)
    deadline = time.monotonic() + 60
    while len(cache) < 3 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = len(cache)
    assert 3 <= done_before < n, "the run must be killed part-way"
    assert not (tmp_path / "out.jsonl").exists()
    cached_before = set(cache.keys())
    posts_before = proxy.posts
    # a request cut off by the kill is counted in posts but has no complete body to keep
    bodies_before = len(proxy.bodies)

    second = run_cli(args)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()
    assert f"of {n} replies" in err.decode() and "parsed " in err.decode()  # the parse rate is reported
    assert proxy.posts - posts_before == n - done_before  # only the missing requests were sent
    sent_seeds = {body["seed"] for body in proxy.bodies[bodies_before:]}
    plans = plan_outputs(ORIGINALS, GenerationRequest(bias_type="gender.representation", n=n, seed=9),
                         load_taxonomy())
    assert sent_seeds.isdisjoint({json.loads(cache.path_of(k).read_text())["request"]["seed"]
                                  for k in cached_before})
    assert len(sent_seeds) == n - done_before
    records = load_records(tmp_path / "out.jsonl")
    assert len(records) == n and len({r.id for r in records}) == n
    assert [r.meta["generation"]["seed"] for r in records] == [p.seed for p in plans]
    assert len(cache) == n
    for key in cache.keys():  # every entry is complete JSON (no truncated file)
        json.loads(cache.path_of(key).read_text())


def test_api_key_is_sent_but_never_written(
    fault_proxy: Any, tiny_chat_model: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-secret-12345"
    proxy = fault_proxy(script=("500", "429"))
    args = cli_args(proxy.base_url, tiny_chat_model, tmp_path, 4, "--api-key-env", "BI_TEST_KEY",
                    "--bias-type", "gender.stereotype")
    cli = run_cli(args, env={"BI_TEST_KEY": secret})
    out, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err.decode()
    # in-process too, with every log record captured (retries are logged at DEBUG)
    os.environ["BI_TEST_KEY"] = secret
    try:
        caplog.set_level(logging.DEBUG)
        proxy.script.extend(["500", "drop"])
        gen = make_generator(proxy.base_url, tiny_chat_model, tmp_path / "cache2",
                             api_key_env="BI_TEST_KEY")
        records = gen.generate(ORIGINALS, GenerationRequest(n=3, seed=1))
    finally:
        del os.environ["BI_TEST_KEY"]
    assert "retry" in caplog.text
    assert proxy.authorization and all(h == f"Bearer {secret}" for h in proxy.authorization)
    assert records[0].meta["generation"]["arguments"]["api_key_env"] == "BI_TEST_KEY"
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 1 + 4 + 3  # output, and the cache entries of both runs
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
    for text in (out.decode(), err.decode(), caplog.text, repr(gen), json.dumps(gen.arguments())):
        assert secret not in text


def test_missing_key_model_and_bad_options_are_user_errors(tmp_path: Path) -> None:
    os.environ.pop("BI_UNSET_KEY", None)
    with pytest.raises(BiasInheritError, match="BI_UNSET_KEY is not set"):
        OpenAIGenerator(model="m", base_url="https://api.example.com/v1", api_key_env="BI_UNSET_KEY")
    with pytest.raises(BiasInheritError, match="needs a model"):
        OpenAIGenerator(model=None, base_url="http://127.0.0.1:1/v1")
    with pytest.raises(BiasInheritError, match="concurrency"):
        OpenAIGenerator(model="m", base_url="http://127.0.0.1:1/v1", concurrency=0)
    # a local server needs no key, even when a key variable is named
    local = get_generator("openai", model="m", base_url="http://localhost:8000/v1",
                          api_key_env="BI_UNSET_KEY")
    assert local.arguments()["api_key_env"] == "BI_UNSET_KEY"
    write_jsonl(ORIGINALS, tmp_path / "x.jsonl")
    cli = run_cli(["--generator", "openai", "--input", str(tmp_path / "x.jsonl"),
                   "--out", str(tmp_path / "o.jsonl"), "--model", "m", "--api-key-env", "BI_UNSET_KEY"])
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 2
    assert err.decode().strip().count("\n") == 0 and "BI_UNSET_KEY is not set" in err.decode()
