"""The command line as a user runs it (`python main.py ...` in a subprocess): every bad input
exits 2 with one line on stderr and no traceback or partial files; the same seed gives the
same bytes; a pickled checkpoint is refused."""

from __future__ import annotations

import json
import os
import subprocess
import traceback
from pathlib import Path

import pytest
import torch
from conftest import LEVELS, copy_checkpoint, files_under, level_text, run_cli, run_cli_many, write_game


def assert_user_error(proc, *fragments: str) -> str:
    """Exit 2, exactly one line on stderr containing every fragment, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# --- bad inputs: each case builds its files and returns (argv, output folder, fragments) ---


def write_level(path: Path, rows: list[str]) -> Path:
    path.write_bytes(level_text(rows).encode("utf-8"))
    return path


def case_missing_from_file(tmp, ckpt):
    missing = tmp / "nope.txt"
    return ["interpolate", "levels", "--checkpoint", ckpt, "--from", missing, "--seed-b", "1"], [
        str(missing),
        "does not exist",
    ]


def case_ragged_level(tmp, ckpt):
    rows = list(LEVELS["level-1"])
    rows[5] = rows[5][:-3]
    bad = write_level(tmp / "ragged.txt", rows)
    return ["interpolate", "levels", "--checkpoint", ckpt, "--from", bad, "--seed-b", "1"], [f"{bad}:6:", "37 tiles"]


def case_unknown_tile(tmp, ckpt):
    rows = list(LEVELS["level-1"])
    rows[2] = rows[2][:7] + "@" + rows[2][8:]
    bad = write_level(tmp / "unknown.txt", rows)
    return ["interpolate", "levels", "--checkpoint", ckpt, "--seed-a", "1", "--to", bad], [f"{bad}:3:8:", "'@'"]


def case_unknown_condition(tmp, ckpt):
    valid = ["enemy", "pipe", "coin", "breakable", "question-block", "tiny-mario"]
    return ["sample", "levels", "--checkpoint", ckpt, "--condition", "pipe", "lava", "-n", "1"], ["'lava'", *valid]


def case_truncated_weights(tmp, ckpt):
    weights, _ = copy_checkpoint(Path(ckpt), tmp / "cut")
    weights.write_bytes(weights.read_bytes()[:200])
    return ["sample", "levels", "--checkpoint", weights, "-n", "1"], ["corrupt"]


def case_garbage_card(tmp, ckpt):
    weights, card = copy_checkpoint(Path(ckpt), tmp / "garbage")
    card.write_text("{{{ not json", encoding="utf-8")
    return ["sample", "levels", "--checkpoint", weights, "-n", "1"], ["not valid JSON"]


def case_newer_card(tmp, ckpt):
    weights, card_path = copy_checkpoint(Path(ckpt), tmp / "future")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    card["format_version"] = 99
    card_path.write_text(json.dumps(card), encoding="utf-8")
    return ["sample", "levels", "--checkpoint", weights, "-n", "1"], ["newer", "update"]


def case_foreign_json(tmp, ckpt):
    weights, card = copy_checkpoint(Path(ckpt), tmp / "foreign")
    card.write_text(json.dumps({"tiles": {"X": ["solid"]}}), encoding="utf-8")
    return ["sample", "levels", "--checkpoint", card, "-n", "1"], ["not a Latent Forge checkpoint"]


def case_pickled_checkpoint(tmp, ckpt):
    import pickle

    from test_checkpoint import MarkerPayload

    (tmp / "evil.pt").write_bytes(pickle.dumps(MarkerPayload(tmp / "marker")))
    return ["sample", "levels", "--checkpoint", tmp / "evil.pt", "-n", "1"], ["evil.pt", "never unpickles"]


def case_out_under_a_file(tmp, ckpt):
    (tmp / "plain-file").write_text("x", encoding="utf-8")
    return ["sample", "levels", "--checkpoint", ckpt, "-n", "1", "--out", tmp / "plain-file" / "sub"], ["plain-file"]


def case_out_is_a_file(tmp, ckpt):
    (tmp / "plain-file").write_text("x", encoding="utf-8")
    return ["sample", "levels", "--checkpoint", ckpt, "-n", "1", "--out", tmp / "plain-file"], ["is a file"]


def case_unknown_format(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "-n", "1", "--format", "bmp"], [".bmp", "txt, png, tmj, tmx"]


def case_zero_samples(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "-n", "0"], ["-n", "from 1 to"]


def case_unknown_domain(tmp, ckpt):
    return ["sample", "pictures", "--checkpoint", ckpt], ["invalid choice", "'pictures'"]


def case_too_narrow_level(tmp, ckpt):
    narrow = write_level(tmp / "narrow.txt", [row[:12] for row in LEVELS["level-2"]])
    return ["interpolate", "levels", "--checkpoint", ckpt, "--from", narrow, "--seed-b", "1"], ["12 columns wide"]


def case_temperature_out_of_range(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "-n", "1", "--temperature", "-1"], ["temperature"]


def case_seed_beyond_64_bits(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "-n", "1", "--seed", str(10**23)], ["seed"]


def case_level_is_a_named_pipe(tmp, ckpt):
    os.mkfifo(tmp / "pipe.txt")  # reading it would block forever
    return ["interpolate", "levels", "--checkpoint", ckpt, "--from", tmp / "pipe.txt", "--seed-b", "1"], ["regular"]


def case_level_is_dev_zero(tmp, ckpt):
    (tmp / "zero.txt").symlink_to("/dev/zero")  # reading it would never end
    return ["interpolate", "levels", "--checkpoint", ckpt, "--from", tmp / "zero.txt", "--seed-b", "1"], ["regular"]


def case_level_file_too_large(tmp, ckpt):
    (tmp / "huge.txt").write_bytes(b"-" * (2 << 20))
    return ["interpolate", "levels", "--checkpoint", ckpt, "--from", tmp / "huge.txt", "--seed-b", "1"], ["at most"]


def case_too_many_items(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "-n", str(10**9)], ["-n", "1,000,000"]


def case_iwae_k_beyond_the_cap(tmp, ckpt):
    return ["eval", "levels", "--checkpoint", ckpt, "--data", tmp, "--iwae-k", str(10**9)], ["--iwae-k"]


def case_negative_eval_seed(tmp, ckpt):
    return ["eval", "levels", "--checkpoint", ckpt, "--data", tmp, "--seed", "-1"], ["--seed"]


def case_label_both_required_and_excluded(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "--condition", "pipe", "--without", "pipe"], ["'pipe'", "both"]


def case_every_game_excluded(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "--without", "tiny-mario"], ["every game is excluded"]


def case_unknown_excluded_label(tmp, ckpt):
    return ["sample", "levels", "--checkpoint", ckpt, "--without", "lava"], ["'lava'"]


def case_eval_json_unwritable(tmp, ckpt):
    (tmp / "plain-file").write_text("x", encoding="utf-8")
    data = write_game(tmp / "Tiny_Mario")
    argv = [
        "eval",
        "levels",
        "--checkpoint",
        ckpt,
        "--data",
        data,
        "--samples",
        "4",
        "--iwae-k",
        "2",
        "--json",
        tmp / "plain-file" / "metrics.json",
    ]
    return argv, ["metrics.json"]


ALL_CASES = {name[len("case_") :]: builder for name, builder in globals().items() if name.startswith("case_")}
# The list runs as real subprocesses; each costs seconds of torch import, so the
# extra cases run `generators.cli.main` in this process (same code, same exit codes).
SUBPROCESS = (
    "missing_from_file",
    "ragged_level",
    "unknown_tile",
    "unknown_condition",
    "truncated_weights",
    "garbage_card",
    "newer_card",
    "foreign_json",
    "pickled_checkpoint",
    "out_under_a_file",
    "unknown_format",
    "zero_samples",
)
IN_PROCESS = tuple(name for name in ALL_CASES if name not in SUBPROCESS)
KNOWN_BUGS: dict[str, str] = {}  # case name -> "BUG: ..." for a strict xfail


def build_case(name: str, tmp: Path, ckpt) -> tuple[list[str], Path, list[str]]:
    argv, fragments = ALL_CASES[name](tmp, str(ckpt))
    out = tmp / "out"
    if "--out" not in argv and argv[0] in ("sample", "interpolate"):
        argv += ["--out", out]
    return [str(a) for a in argv], out, fragments


def cli_here(argv: list[str], capsys) -> subprocess.CompletedProcess:
    """`generators.cli.main(argv)` in this process, as a CompletedProcess. An exception that
    escapes is what the interpreter would print as a traceback, so it becomes exit 1."""
    from generators.cli import main

    try:
        code = main(argv)
    except SystemExit as stop:  # argparse errors
        code = stop.code
    except Exception:  # noqa: BLE001 - this is the crash the user would see
        traceback.print_exc()
        code = 1
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, captured.out, captured.err)


def maybe_known_bug(name: str):
    if name in KNOWN_BUGS:
        return pytest.param(name, marks=pytest.mark.xfail(reason=KNOWN_BUGS[name], strict=True))
    return name


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory, tiny_checkpoint):
    """Run each subprocess case once (two at a time); keep (process, output folder, fragments)."""
    cases = {name: build_case(name, tmp_path_factory.mktemp(name), tiny_checkpoint) for name in SUBPROCESS}
    procs = run_cli_many([argv for argv, _, _ in cases.values()])
    return {name: (proc, out, fragments) for (name, (_, out, fragments)), proc in zip(cases.items(), procs)}


@pytest.mark.parametrize("case", SUBPROCESS)
def test_bad_input_exits_2_with_one_clear_line(bad_runs, case):
    proc, out, fragments = bad_runs[case]
    assert_user_error(proc, *fragments)
    assert files_under(out) == []  # nothing half-written, not even a temp file
    assert proc.stdout == ""


@pytest.mark.parametrize("case", [maybe_known_bug(name) for name in IN_PROCESS if name != "eval_json_unwritable"])
def test_more_bad_inputs_exit_2_with_one_clear_line(tmp_path, tiny_checkpoint, capsys, case):
    argv, out, fragments = build_case(case, tmp_path, tiny_checkpoint)
    proc = cli_here(argv, capsys)
    assert_user_error(proc, *fragments)
    assert files_under(out) == []
    assert proc.stdout == ""


def test_eval_with_unwritable_json_exits_2(tmp_path, tiny_checkpoint, capsys):
    argv, _, fragments = build_case("eval_json_unwritable", tmp_path, tiny_checkpoint)
    proc = cli_here(argv, capsys)
    assert_user_error(proc, *fragments)
    assert files_under(tmp_path / "plain-file") == []


def test_eval_checks_its_json_path_before_evaluating(tmp_path, tiny_checkpoint, capsys):
    argv, _, _ = build_case("eval_json_unwritable", tmp_path, tiny_checkpoint)
    proc = cli_here(argv, capsys)
    assert proc.returncode == 2
    assert proc.stdout == ""  # no metrics table: it failed before measuring anything


def test_pickled_checkpoint_leaves_no_marker(bad_runs):
    proc, out, _ = bad_runs["pickled_checkpoint"]
    assert proc.returncode == 2
    assert not (out.parent / "marker").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_output_folder_is_a_clear_error(tmp_path, tiny_checkpoint):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = run_cli("sample", "levels", "--checkpoint", tiny_checkpoint, "-n", "1", "--out", locked)
        assert_user_error(proc, str(locked))
        assert files_under(locked) == []
    finally:
        locked.chmod(0o700)


def test_failure_midway_leaves_whole_files_and_no_temp_litter(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "out"
    (out / "levels-seed6.txt").mkdir(parents=True)  # the second item's name is taken by a folder
    argv = ["sample", "levels", "--checkpoint", str(tiny_checkpoint), "-n", "3", "--seed", "5", "--out", str(out)]
    proc = cli_here(argv, capsys)
    assert_user_error(proc, "levels-seed6.txt")
    assert files_under(out) == ["levels-seed5.txt"]
    rows = (out / "levels-seed5.txt").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 14 and {len(r) for r in rows} == {16}  # the default window width


# --- success paths -------------------------------------------------------------------


SEEDED_FORMATS = ("txt", "png")


def seeded_argv(fmt: str, out: Path, checkpoint) -> list[str]:
    return [
        "sample",
        "levels",
        "--checkpoint",
        str(checkpoint),
        "-n",
        "3",
        "--seed",
        "7",
        "--format",
        fmt,
        "--condition",
        "pipe",
        "--out",
        str(out),
    ]


@pytest.fixture(scope="module")
def seeded_runs(tmp_path_factory, tiny_checkpoint):
    """`sample --seed 7` once per format in a fresh interpreter (`python main.py`)."""
    root = tmp_path_factory.mktemp("seeded")
    argvs = [seeded_argv(fmt, root / fmt, tiny_checkpoint) for fmt in SEEDED_FORMATS]
    return {fmt: (proc, root / fmt) for fmt, proc in zip(SEEDED_FORMATS, run_cli_many(argvs))}


@pytest.mark.parametrize("fmt", SEEDED_FORMATS)
def test_same_seed_gives_identical_bytes(seeded_runs, tmp_path, tiny_checkpoint, tiny_generator, capsys, fmt):
    """The subprocess run and a second run in this (already busy) process write the same bytes."""
    first, out_1 = seeded_runs[fmt]
    out_2 = tmp_path / fmt
    second = cli_here(seeded_argv(fmt, out_2, tiny_checkpoint), capsys)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    names = [f"levels-seed{seed}.{fmt}" for seed in (7, 8, 9)]
    assert [n for n in files_under(out_1) if n.endswith(fmt)] == names
    assert files_under(out_1) == files_under(out_2)
    for name in files_under(out_1):
        assert (out_1 / name).read_bytes() == (out_2 / name).read_bytes(), name
    # Different seeds are different items: the tiny one-epoch model may decode them to the
    # same tiles, so compare what the network outputs for each seed's latent.
    outputs = [tiny_generator.decode_output(tiny_generator.latent_for_seed(s)[None], ["pipe"]) for s in (7, 8, 9)]
    assert not torch.equal(outputs[0], outputs[1]) and not torch.equal(outputs[1], outputs[2])


def test_sample_prints_each_file_with_its_seed_and_labels(seeded_runs, tiny_generator):
    proc, out = seeded_runs["txt"]
    lines = proc.stdout.splitlines()
    # Each item's labels are the ones `sample` drew for its seed, and the file shows them.
    labels = [tiny_generator.labels_for_seed(s, ["pipe"]) for s in (7, 8, 9)]
    assert lines == [
        f"{out / f'levels-seed{s}.txt'}\tseed={s}\tlabels={','.join(lb)}" for s, lb in zip((7, 8, 9), labels)
    ]
    for s, lb in zip((7, 8, 9), labels):
        level = tiny_generator.domain.read(out / f"levels-seed{s}.txt")
        assert "pipe" in lb and set(tiny_generator.domain.labels_of(level)) <= set(lb)


def test_cli_sample_matches_the_generator_api(seeded_runs, tiny_generator):
    _, out = seeded_runs["txt"]
    for item in tiny_generator.sample(3, condition=["pipe"], seed=7):
        assert (out / f"levels-seed{item.seed}.txt").read_text(encoding="utf-8") == item.asset.text()


def test_sample_lists_every_file_it_wrote(tmp_path, tiny_checkpoint, capsys):
    out = tmp_path / "maps"
    proc = cli_here(seeded_argv("tmx", out, tiny_checkpoint), capsys)
    assert proc.returncode == 0
    printed = {Path(line.split("\t")[0]).name for line in proc.stdout.splitlines()}
    assert printed == set(files_under(out))


def test_interpolate_between_files_writes_each_frame(tmp_path, game_folder, tiny_checkpoint, capsys):
    out = tmp_path / "frames"
    argv = [
        "interpolate",
        "levels",
        "--checkpoint",
        str(tiny_checkpoint),
        "--from",
        str(game_folder / "level-1.txt"),
        "--to",
        str(game_folder / "level-2.txt"),
        "--steps",
        "3",
        "--mode",
        "lerp",
        "--out",
        str(out),
    ]
    proc = cli_here(argv, capsys)
    assert proc.returncode == 0, proc.stderr
    assert files_under(out) == [f"levels-interp0{i}.txt" for i in range(3)]
    assert [line.split("\t")[1] for line in proc.stdout.splitlines()] == ["t=0.000", "t=0.500", "t=1.000"]
    assert "40 columns wide; encoding its first 16" in proc.stderr


def test_the_three_condition_states_on_the_command_line(tiny_checkpoint, tiny_generator, tmp_path, capsys):
    """--condition: every item shows the label; --without: none does; the rest: drawn per item."""
    argv = ["sample", "levels", "--checkpoint", str(tiny_checkpoint), "-n", "12", "--seed", "40"]
    lines = cli_here([*argv, "--condition", "pipe", "--without", "enemy", "--out", str(tmp_path / "a")], capsys).stdout
    labels = [line.split("\tlabels=")[1].split(",") for line in lines.splitlines()]
    assert len(labels) == 12 and all("pipe" in lb and "enemy" not in lb for lb in labels)
    for n, shown in enumerate(labels):
        level = tiny_generator.domain.read(tmp_path / "a" / f"levels-seed{40 + n}.txt")
        assert "E" not in "".join(level.rows) and set(tiny_generator.domain.labels_of(level)) <= set(shown)
    # Nothing asked: the labels are each seed's draw from the training data (the card's label sets).
    plain = cli_here([*argv, "--out", str(tmp_path / "b")], capsys).stdout
    drawn = [line.split("\tlabels=")[1].split(",") for line in plain.splitlines()]
    assert drawn == [tiny_generator.labels_for_seed(40 + n) for n in range(12)]
    known = [row["labels"] for row in tiny_generator.card["label_distribution"]]
    assert all(sorted(lb) == sorted(next(k for k in known if sorted(k) == sorted(lb))) for lb in drawn)


def test_sample_starts_at_the_temperature_the_card_chose(tiny_checkpoint, tmp_path):
    """No --temperature: the model's own default (`sampling.temperature` in its card), checked on load."""
    from generators.core.errors import CheckpointError
    from generators.registry import load_generator

    weights, card_path = copy_checkpoint(tiny_checkpoint, tmp_path / "cool")
    card = json.loads(card_path.read_text())
    card_path.write_text(json.dumps(dict(card, sampling={"temperature": 0.25})))
    generator = load_generator(weights)
    assert generator.default_temperature == 0.25 and load_generator(tiny_checkpoint).default_temperature == 1.0
    proc = run_cli("sample", "levels", "--checkpoint", weights, "-n", "1", "--seed", "5", "--out", tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    [written] = (tmp_path / "a").iterdir()
    expected = generator.sample(1, None, 0.25, 5)[0].asset
    assert generator.domain.read(written) == expected
    # `interpolate --seed-a` starts from the item `sample` makes of that seed, at the card's
    # temperature too: a seed whose item there differs from its item at temperature 1 tells.
    seed = next(
        s
        for s in range(5, 200)
        if generator.sample(1, None, 0.25, s)[0].asset != generator.sample(1, None, 1.0, s)[0].asset
    )
    proc = run_cli(
        *("interpolate", "levels", "--checkpoint", weights, "--seed-a", str(seed), "--seed-b", str(seed + 1)),
        *("--steps", "2", "--format", "txt", "--out", tmp_path / "morph"),
    )
    assert proc.returncode == 0, proc.stderr
    first = sorted((tmp_path / "morph").iterdir())[0]
    assert generator.domain.read(first) == generator.sample(1, None, 0.25, seed)[0].asset
    for bad in ("warm", -1, float("nan"), True):
        card_path.write_text(json.dumps(dict(card, sampling={"temperature": bad})))
        with pytest.raises(CheckpointError, match="sampling.temperature"):
            load_generator(weights)
