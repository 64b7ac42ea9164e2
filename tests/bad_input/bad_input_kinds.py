"""The bad-input table by kind: each kind of mistake is a generator of rows over every command,
flag or folder it can reach, rather than a list of the instances someone happened to try.

- ``folder_kind_cases``: every command that writes a folder, into a folder of every other kind
  (a study run, an evaluation, an audit, a model, a dataset, an lm-eval export), and every
  cache folder into a folder of any kind.
- ``owned_file_cases``: every record writer, onto every file a kind of folder owns.
- ``loop_cases``: a symlink loop in every path flag, input and output, of every command.
- ``nan_cases``: NaN in every float flag of every command (found from the commands themselves).
- ``generator_option_cases``: every generator option given to a generator that does not take it.
- ``benchmark_kind_cases``: every benchmark given a file in each other benchmark's format.
- ``hub_offline_cases``: a hub id on a machine where the hub is unreachable, in every command
  that takes a model.
- ``config_cases``: study configs valid key by key that do not mean what they say.

Rows are :class:`~bad_input_cases.Case` s, checked by :func:`~bad_input_cases.assert_refused`
(exit 2, one line, nothing written). The kinds that need no command line (configs, JSON
arrays, option values) are property tests in test_bad_input_kinds.py.
"""

from __future__ import annotations

import typing

from bad_input_cases import Case
from bad_input_support import BENCHMARK_FILES, BENCHMARK_OWN_FILE, CONFIG_MUTATIONS

OUT = "--out {ws}/out.jsonl"
OUT_DIR = "--out {ws}/out"

# the least a command needs besides the flag a row is about (all valid)
BASE_ARGS = {
    "corpus": ("--size", "10"),
    "generate": ("--input", "{corpus}", "--n", "5"),
    "mix": ("--original", "{corpus}", "--augmented", "{aug}", "--ratio", "0.5"),
    "train": ("--data", "{corpus}"),
    "evaluate": ("--model", "{model}", "--tasks", "coref", "--limit", "2"),
    "audit": ("{corpus}", "{aug}"),
    "study": ("--config", "{study}"),
}

# library name of a folder of each kind
KIND_FOLDERS = {"study run": "run", "evaluation": "evaluation", "audit": "audit_folder", "model": "model",
                "dataset": "dataset", "lm-eval tasks": "lm_eval"}
KIND_FOLDERS_ALT = {"model": "no_tokenizer"}

# command -> (its arguments before the output, the kind of folder it writes there)
FOLDER_WRITERS = {
    "evaluate": (BASE_ARGS["evaluate"], "evaluation"),
    "audit": (BASE_ARGS["audit"], "audit"),
    "study": (BASE_ARGS["study"], "study run"),
    "train": (BASE_ARGS["train"], "model"),
    "corpus": (("--size", "10", "--format", "hf"), "dataset"),
    "generate": ((*BASE_ARGS["generate"], "--format", "hf"), "dataset"),
    "mix": ((*BASE_ARGS["mix"], "--format", "hf"), "dataset"),
}


def _slug(text: str) -> str:
    return text.replace(" ", "-").replace(".", "-").replace(":", "-").replace("_", "-")


def folder_kind_cases() -> list[Case]:
    """Every folder writer into a folder of every other kind: refused, naming that kind."""
    rows = []
    for command, (args, kind) in FOLDER_WRITERS.items():
        for other, lib in KIND_FOLDERS.items():
            if other == kind:
                continue
            if f"{{{lib}}}" in args:  # another folder of the kind than the command's input
                lib = KIND_FOLDERS_ALT[other]
            rows.append(Case(command, f"out-is-{_slug(other)}-folder", (command, *args, "--out", f"{{{lib}}}"),
                             f"{other} folder"))
    # a cache folder is of no kind: a cache inside a study's run folder would litter it
    for other, lib in KIND_FOLDERS.items():
        rows.append(Case("generate", f"cache-dir-is-{_slug(other)}-folder",
                         ("generate", *BASE_ARGS["generate"], "--generator", "openai", "--model", "m", "--cache-dir",
                          f"{{{lib}}}", *OUT.split()), f"{other} folder"))
        rows.append(Case("audit", f"cache-dir-is-{_slug(other)}-folder",
                         ("audit", *BASE_ARGS["audit"], "--cache-dir", f"{{{lib}}}"), f"{other} folder"))
    # models fetch --out is a model folder
    for other, lib in KIND_FOLDERS.items():
        if other != "model":
            rows.append(Case("models", f"fetch-out-is-{_slug(other)}-folder",
                             ("models", "fetch", "smollm2-135m-instruct", "--cache-dir", "{ws}/cache", "--out",
                              f"{{{lib}}}"), "--out"))
    return rows


# every file each kind owns that a record writer could be pointed at (a known suffix)
OWNED_FILES = {
    "study run": ("results.parquet", "results.csv", "findings.csv", "summary.csv", "checks.json", "manifest.json"),
    "evaluation": ("results.json", "results.csv"),
    "audit": ("audit.json",),
    "model": ("biasinherit_model.json", "config.json", "tokenizer.json", "tokenizer_config.json"),
    "dataset": ("dataset_info.json", "state.json"),
    "lm-eval tasks": ("biasinherit_lm_eval.json",),
}
FILE_WRITERS = {"corpus": BASE_ARGS["corpus"], "generate": BASE_ARGS["generate"], "mix": BASE_ARGS["mix"]}


def owned_file_cases() -> list[Case]:
    """Every record writer onto every file a kind of folder owns: refused (a corpus written as
    a study's results.csv used to replace it)."""
    rows = []
    for command, args in FILE_WRITERS.items():
        for kind, names in OWNED_FILES.items():
            for name in names:
                rows.append(Case(command, f"out-replaces-{_slug(kind)}-{_slug(name)}",
                                 (command, *args, "--out", f"{{{KIND_FOLDERS[kind]}}}/{name}"), "would replace"))
    return rows


# command -> its path flags as (row name, arguments with {LOOP} where the loop goes)
LOOP_FLAGS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "corpus": [("out", ("--size", "10", "--out", "{LOOP}.jsonl")),
               ("out-parent", ("--size", "10", "--out", "{LOOP}/c.jsonl")),
               ("out-hf", ("--size", "10", "--format", "hf", "--out", "{LOOP}"))],
    "generate": [("input", ("--input", "{LOOP}.jsonl", *OUT.split())),
                 ("out", (*BASE_ARGS["generate"], "--out", "{LOOP}.jsonl")),
                 ("cache-dir", (*BASE_ARGS["generate"], "--generator", "openai", "--model", "m", "--cache-dir",
                                "{LOOP}", *OUT.split()))],
    "mix": [("original", ("--original", "{LOOP}.jsonl", "--augmented", "{aug}", "--ratio", "0.5", *OUT.split())),
            ("augmented", ("--original", "{corpus}", "--augmented", "{LOOP}.jsonl", "--ratio", "0.5", *OUT.split())),
            ("out", (*BASE_ARGS["mix"], "--out", "{LOOP}.jsonl"))],
    "train": [("data", ("--data", "{LOOP}.jsonl", *OUT_DIR.split())),
              ("model", ("--data", "{corpus}", "--model", "{LOOP}", *OUT_DIR.split())),
              ("model-hf", ("--data", "{corpus}", "--model", "hf:{LOOP}", *OUT_DIR.split())),
              ("out", (*BASE_ARGS["train"], "--out", "{LOOP}"))],
    "evaluate": [("model", ("--model", "{LOOP}", *OUT_DIR.split())),
                 ("benchmark", ("--model", "{model}", "--benchmark", "crows_pairs={LOOP}.csv", *OUT_DIR.split())),
                 ("out", (*BASE_ARGS["evaluate"], "--out", "{LOOP}"))],
    "audit": [("original", ("{LOOP}.jsonl", "{aug}")),
              ("augmented", ("{corpus}", "{LOOP}.jsonl")),
              ("out", (*BASE_ARGS["audit"], "--out", "{LOOP}")),
              ("cache-dir", (*BASE_ARGS["audit"], "--cache-dir", "{LOOP}")),
              ("embedding-model", (*BASE_ARGS["audit"], "--embedding-model", "{LOOP}"))],
    "study": [("config", ("--config", "{LOOP}.toml", *OUT_DIR.split())),
              ("out", (*BASE_ARGS["study"], "--out", "{LOOP}")),
              ("data-path", ("--config", "{study_loop_data}", *OUT_DIR.split()))],
    "report": [("run-dir", ("{LOOP}",))],
    "lm-eval-tasks": [("dir", ("{LOOP}",))],
    "models": [("fetch-out", ("fetch", "smollm2-135m-instruct", "--cache-dir", "{ws}/cache", "--out", "{LOOP}")),
               ("fetch-cache-dir", ("fetch", "smollm2-135m-instruct", "--cache-dir", "{LOOP}")),
               ("list-cache-dir", ("list", "--cache-dir", "{LOOP}"))],
}


def loop_cases() -> list[Case]:
    """A symlink loop in every path flag (a link to itself, and for the first flag of each
    command a two-link loop): one line naming it, never ``RuntimeError: Symlink loop``."""
    rows = []
    for command, flags in LOOP_FLAGS.items():
        for k, (name, args) in enumerate(flags):
            kinds = [("loop", "loop:")] + ([("loop2", "loop2:")] if k == 0 else [])
            for label, placeholder in kinds:
                argv = []
                for a in args:
                    if "{LOOP}" in a:
                        suffix = a.split("{LOOP}")[1].split("/")[0]  # the loop's own name keeps the suffix
                        a = a.replace("{LOOP}" + suffix, "{" + placeholder + f"{label}{suffix}" + "}")
                    argv.append(a)
                expect = "symlink loop"
                rows.append(Case(command, f"{label}-{name}", (command, *argv), expect))
    return rows


def _float_flags(command: str) -> list[str]:
    """The float options of a command, read from its function's annotations."""
    from biasinherit.cli import app

    callback = next(c.callback for c in app.registered_commands if (c.name or c.callback.__name__) == command)
    hints = typing.get_type_hints(callback, include_extras=True)
    flags = []
    for name, hint in hints.items():
        if typing.get_origin(hint) is not typing.Annotated:
            continue
        base, *extras = typing.get_args(hint)
        types = typing.get_args(base) or (base,)
        if float not in types:
            continue
        option = next((e for e in extras if hasattr(e, "param_decls")), None)
        decls = [d for d in getattr(option, "param_decls", ()) if d.startswith("--")]
        flags.append(decls[0] if decls else "--" + name.replace("_", "-"))
    return flags


NAN_BASE = {
    "corpus": (*BASE_ARGS["corpus"], *OUT.split()),
    "generate": (*BASE_ARGS["generate"], *OUT.split()),
    "mix": (*BASE_ARGS["mix"], *OUT.split()),
    "train": (*BASE_ARGS["train"], *OUT_DIR.split()),
    "evaluate": (*BASE_ARGS["evaluate"], *OUT_DIR.split()),
    "audit": BASE_ARGS["audit"],
    "study": (*BASE_ARGS["study"], *OUT_DIR.split()),
}


def nan_cases() -> list[Case]:
    """NaN in every float flag of every command: said as NaN, not as a bound ("<= 10")."""
    rows = []
    for command, base in NAN_BASE.items():
        for flag in _float_flags(command):
            args = list(base)
            if flag in args:  # the flag is among the base's (mix --ratio): its value becomes NaN
                args[args.index(flag) + 1] = "nan"
            else:
                args += [flag, "nan"]
            rows.append(Case(command, f"nan{flag}", (command, *args), "NaN"))
    return rows


# a value other than the default for each generator keyword of biasinherit.generate
GENERATOR_FLAG_VALUES = {
    "--model": "m", "--base-url": "http://127.0.0.1:9/v1", "--api-key-env": "MY_KEY", "--concurrency": "2",
    "--cache-dir": "{ws}/cache", "--temperature": "0.2", "--max-new-tokens": "32", "--timeout": "5",
    "--max-retries": "1", "--batch-size": "2", "--on-unparseable": "raw", "--parse-retries": "1",
    "--request-style": "example", "--chat-template": "off",
}
GENERATOR_ARGS = {"builtin": (), "openai": ("--model", "m"), "hf": ("--model", "{model}")}


def generator_option_cases() -> list[Case]:
    """Every generator flag given to a generator that takes no such option: refused, as the
    study config refuses it (it used to be ignored)."""
    from biasinherit.api._data import renames_for
    from biasinherit.generators.base import accepted_options

    rows = []
    for generator, extra in GENERATOR_ARGS.items():
        accepted = accepted_options(generator)
        for flag, value in GENERATOR_FLAG_VALUES.items():
            keyword = flag[2:].replace("-", "_")
            if renames_for(generator, keyword) in accepted or (flag == "--model" and extra):
                continue
            rows.append(Case("generate", f"{generator}-takes-no{flag}",
                             ("generate", *BASE_ARGS["generate"], "--generator", generator, *extra, flag, value,
                              *OUT.split()), "takes no"))
    return rows


def benchmark_kind_cases() -> list[Case]:
    """Every benchmark given a file in each other benchmark's format (and records, a JSON
    array): one line saying what that benchmark needs."""
    others = [*BENCHMARK_FILES, "records.jsonl", "array.json"]
    rows = []
    for benchmark, own in BENCHMARK_OWN_FILE.items():
        for name in others:
            if name == own:
                continue
            rows.append(Case("evaluate", f"benchmark-{benchmark}-given-{_slug(name)}",
                             ("evaluate", "--model", "{model}", "--benchmark", f"{benchmark}={{bench:{name}}}",
                              *OUT_DIR.split()), f"{benchmark} needs"))
    return rows


HUB_ID = "hf:no-such-owner/no-such-model"
HUB_COMMANDS: dict[str, tuple[str, ...]] = {
    "train": ("train", "--data", "{corpus}", "--model", HUB_ID, *OUT_DIR.split()),
    "evaluate": ("evaluate", "--model", HUB_ID, *OUT_DIR.split()),
    "generate": ("generate", *BASE_ARGS["generate"], "--generator", "hf", "--model", HUB_ID, *OUT.split()),
}


def hub_offline_cases() -> list[Case]:
    """A hub id where the hub cannot be reached: one line within a few seconds, whether the
    machine says it is offline (HF_HUB_OFFLINE) or the connection is refused."""
    envs: dict[str, tuple[tuple[str, str], ...]] = {
        "hf-hub-offline": (("HF_HUB_OFFLINE", "1"),),
        "hub-refused": (("HF_HUB_OFFLINE", "0"), ("HF_ENDPOINT", "http://127.0.0.1:9"),
                        ("HTTPS_PROXY", ""), ("https_proxy", ""), ("ALL_PROXY", "")),
    }
    rows = []
    for command, args in HUB_COMMANDS.items():
        for label, env in envs.items():
            rows.append(Case(command, f"hub-id-{label}", args, "not in the local Hugging Face cache", 5.0, env))
    return rows


def config_cases() -> list[Case]:
    """Every study-config mutation of the library (bad_input_support.CONFIG_MUTATIONS): refused
    before any work, naming the key (the Hypothesis tests in test_bad_config_kinds.py draw many
    more configs of each kind; these go through the command line)."""
    expected = {**{name: key for name, (_, _, key) in CONFIG_MUTATIONS.items()},
                "mix-size-above-data-file": "[data] path"}
    return [Case("study", f"config-{name}", ("study", "--config", f"{{config:{name}}}", *OUT_DIR.split()), key)
            for name, key in expected.items()]


def all_kind_cases() -> dict[str, list[Case]]:
    return {"folder kinds": folder_kind_cases(), "owned files": owned_file_cases(), "symlink loops": loop_cases(),
            "NaN": nan_cases(), "generator options": generator_option_cases(),
            "benchmark file kinds": benchmark_kind_cases(), "hub offline": hub_offline_cases(),
            "study configs": config_cases()}
