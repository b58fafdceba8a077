"""Checkpoints: save -> load gives identical tensors and decoder outputs; pickles, corrupt,
foreign and newer files are refused with CheckpointError and never executed."""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pytest
import torch
from conftest import copy_checkpoint

from generators.core.checkpoint import FORMAT, FORMAT_VERSION, load_checkpoint, save_checkpoint
from generators.core.errors import CheckpointError
from generators.core.latent import sample_latent
from generators.registry import load_generator


class MarkerPayload:
    """Unpickling this creates the marker file: a stand-in for code a pickle could run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def evil_bytes(marker) -> bytes:
    return pickle.dumps(MarkerPayload(marker))


# --- save and load --------------------------------------------------------------------


def test_tensors_and_card_survive_save_and_load(tmp_path):
    tensors = {
        "model.weight": torch.randn(3, 4, generator=torch.Generator().manual_seed(1)),
        "model.count": torch.arange(5, dtype=torch.int64),
        "extra.flag": torch.tensor([True, False]),
    }
    weights, card_path = save_checkpoint(tmp_path / "m", tensors, {"name": "m", "note": "ünïcode"})
    assert (weights.name, card_path.name) == ("m.safetensors", "m.json")

    ckpt = load_checkpoint(tmp_path / "m.safetensors")
    assert ckpt.tensors.keys() == tensors.keys()
    for key, value in tensors.items():
        assert ckpt.tensors[key].dtype == value.dtype
        assert torch.equal(ckpt.tensors[key], value)
    assert ckpt.card["note"] == "ünïcode"
    assert ckpt.card["format"] == FORMAT and ckpt.card["format_version"] == FORMAT_VERSION
    assert ckpt.card["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert set(ckpt.group("model")) == {"weight", "count"}


@pytest.mark.parametrize("form", ["{stem}", "{stem}.safetensors", "{stem}.json"])
def test_a_checkpoint_loads_by_any_of_its_names(tiny_checkpoint, form):
    stem = str(tiny_checkpoint.with_suffix(""))
    ckpt = load_checkpoint(form.format(stem=stem))
    assert ckpt.weights_path == tiny_checkpoint


def test_saved_and_reloaded_generator_decodes_identically(tiny_generator, tiny_checkpoint, tmp_path):
    state = {f"model.{k}": v for k, v in tiny_generator.model.state_dict().items()}
    state.update({f"directions.{k}": torch.from_numpy(v) for k, v in tiny_generator.directions().items()})
    save_checkpoint(tmp_path / "copy", state, tiny_generator.card)
    reloaded = load_generator(tmp_path / "copy.safetensors")
    again = load_generator(tiny_checkpoint)

    z = np.stack([sample_latent(4, seed) for seed in range(6)])
    condition = ["pipe", "coin"]
    logits = tiny_generator.decode_output(z, condition)
    assert logits.shape == (6, 11, 14, 16)
    assert torch.equal(reloaded.decode_output(z, condition), logits)
    assert torch.equal(again.decode_output(z, condition), logits)
    assert reloaded.directions().keys() == tiny_generator.directions().keys()
    assert reloaded.domain.to_card() == tiny_generator.domain.to_card()


def test_tiny_checkpoint_card_records_model_data_and_metrics(tiny_checkpoint):
    card = json.loads(tiny_checkpoint.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["domain"] == "levels"
    assert card["model"]["latent_size"] == 4 and card["model"]["channels"] == [8, 16]
    assert card["data"]["holdout_levels"] == ["level-4"]
    assert card["data"]["train_windows"] == 3 * (40 - 16 + 1) and card["data"]["holdout_windows"] == 40 - 16 + 1
    assert card["training"]["command"] == "test" and card["training"]["epochs_run"] == 1
    assert card["metrics"]["iwae_k"] == 4 and card["metrics"]["samples"] == 20
    assert card["metrics"]["training_windows_broken_pipe_rate"] == 0.0
    assert [g["name"] for g in card["conditions"]] == ["contains", "game"]


def test_load_generator_refuses_a_model_of_another_domain(tiny_checkpoint):
    with pytest.raises(CheckpointError, match="is a levels model, not a music model"):
        load_generator(tiny_checkpoint, domain="music")


# --- pickles are refused, never opened ------------------------------------------------


def test_the_marker_payload_really_runs_when_unpickled(tmp_path):
    """Control: proves the payload below is armed, so its marker staying absent means something."""
    marker = tmp_path / "control-marker"
    handle = pickle.loads(evil_bytes(marker))
    handle.close()
    assert marker.exists()


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt", ".pkl"])
@pytest.mark.parametrize("loader", [load_checkpoint, load_generator])
def test_pickled_torch_files_are_refused_before_opening(tmp_path, suffix, loader):
    marker = tmp_path / "marker"
    evil = tmp_path / f"evil{suffix}"
    evil.write_bytes(evil_bytes(marker))
    with pytest.raises(CheckpointError, match="never unpickles"):
        loader(evil)
    assert not marker.exists()


def torch_zip_payload(marker) -> bytes:
    """A real torch.save file (zip holding data.pkl) whose pickle would create the marker."""
    import io

    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(2), "payload": MarkerPayload(marker)}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("payload", [evil_bytes, torch_zip_payload], ids=["raw-pickle", "torch-save-zip"])
@pytest.mark.parametrize("loader", [load_checkpoint, load_generator])
def test_pickle_renamed_to_safetensors_is_refused_without_running(tmp_path, tiny_checkpoint, payload, loader):
    marker = tmp_path / "marker"
    blob = payload(marker)
    assert not marker.exists()
    # A valid-looking card whose hash matches, so the refusal is about the weights themselves.
    card = json.loads(tiny_checkpoint.with_suffix(".json").read_text(encoding="utf-8"))
    card["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    (tmp_path / "evil.safetensors").write_bytes(blob)
    (tmp_path / "evil.json").write_text(json.dumps(card), encoding="utf-8")

    with pytest.raises(CheckpointError, match="not valid safetensors"):
        loader(tmp_path / "evil.safetensors")
    assert not marker.exists()


# --- corrupt, foreign and newer checkpoints -------------------------------------------


def damaged(tmp_path, tiny_checkpoint, how: str):
    weights, card_path = copy_checkpoint(tiny_checkpoint, tmp_path / "damaged")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if how == "truncated weights":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif how == "truncated weights, card rehashed":
        blob = weights.read_bytes()[:-100]
        weights.write_bytes(blob)
        card["weights_sha256"] = hashlib.sha256(blob).hexdigest()
        card_path.write_text(json.dumps(card), encoding="utf-8")
    elif how == "garbage card":
        card_path.write_bytes(b"{ this is not json \x00\xff")
    elif how == "newer format":
        card["format_version"] = FORMAT_VERSION + 1
        card_path.write_text(json.dumps(card), encoding="utf-8")
    elif how == "foreign json":
        card_path.write_text(json.dumps({"type": "map", "layers": []}), encoding="utf-8")
    elif how == "json list":
        card_path.write_text("[1, 2, 3]", encoding="utf-8")
    elif how == "missing card":
        card_path.unlink()
    elif how == "missing weights":
        weights.unlink()
    elif how == "card disagrees with weights":
        card["model"]["latent_size"] = 5
        card_path.write_text(json.dumps(card), encoding="utf-8")
    elif how == "card without domain":
        del card["domain"]
        card_path.write_text(json.dumps(card), encoding="utf-8")
    return weights


DAMAGE = {
    "truncated weights": "corrupt: they do not match the hash",
    "truncated weights, card rehashed": "not valid safetensors",
    "garbage card": "corrupt: not valid JSON",
    "newer format": "newer Latent Forge",
    "foreign json": "not a Latent Forge checkpoint card",
    "json list": "not a Latent Forge checkpoint card",
    "missing card": "card .* is missing",
    "missing weights": "weights .* are missing",
    "card disagrees with weights": "weights do not match its card: card field model.latent_size is 5",
    "card without domain": "card field domain is missing",
}


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_damaged_checkpoints_are_refused_with_one_line(tmp_path, tiny_checkpoint, how):
    weights = damaged(tmp_path, tiny_checkpoint, how)
    with pytest.raises(CheckpointError, match=DAMAGE[how]) as caught:
        load_generator(weights)
    assert "\n" not in str(caught.value)


def test_nothing_at_all_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nothing")
