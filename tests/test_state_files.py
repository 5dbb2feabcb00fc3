"""lrsci.state_files: checkpoints and snapshots carry a digest of their bytes, so damage inside one is named."""
import pytest
import torch

from lrsci.runs import RunStore
from lrsci.state_files import StateCorrupt, read_state, write_state
from tests.helpers import blobs, tiny_config


def test_a_state_reads_back_as_written_and_a_flipped_byte_is_named(tmp_path):
    path = tmp_path / "checkpoint.pt"
    state = {"w": torch.arange(10_000, dtype=torch.float32), "epoch": 3}
    write_state(path, state)
    back = read_state(path)
    assert back["epoch"] == 3 and torch.equal(back["w"], state["w"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01                       # one bit, inside the tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(StateCorrupt, match=r"checkpoint\.pt: its bytes differ from the digest"):
        read_state(path)


def test_a_state_in_the_plain_torch_format_of_earlier_stores_still_reads(tmp_path):
    torch.save({"epoch": 2}, tmp_path / "old.pt")
    assert read_state(tmp_path / "old.pt") == {"epoch": 2}


@pytest.mark.usefixtures("every_epoch_checkpoints")
def test_a_damaged_checkpoint_is_moved_aside_and_the_run_resumes_from_the_previous_one(tmp_path, monkeypatch):
    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: blobs())
    store, cfg = RunStore(tmp_path / "runs"), tiny_config()

    class Stop(Exception):
        pass

    def stop_at_4(trainer, record):
        if trainer.epoch == 4:
            raise Stop
    with pytest.raises(Stop):
        store.run(cfg, on_epoch=stop_at_4)
    ckpt = store.dir(cfg) / "checkpoint.pt"
    data = bytearray(ckpt.read_bytes())
    data[-200] ^= 0xFF                                  # damaged on disk, still a loadable zip for torch
    ckpt.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match=r"checkpoint\.pt: unreadable checkpoint \(StateCorrupt"):
        result = store.run(cfg)
    straight = RunStore(tmp_path / "fresh").run(cfg)
    assert result.history == straight.history
    assert len(list(store.dir(cfg).glob("checkpoint.pt.corrupt-*"))) == 1
