"""The examples run as they are and do what their text says."""
from __future__ import annotations

import pytest

from tests.helpers import ROOT, load_file


@pytest.mark.parametrize("threads", [1, 2])
def test_the_autodecay_example_decays_by_ten_and_stops_on_its_own(threads):
    import torch

    before = torch.get_num_threads()   # its decisions must not hang on float rounding: 1 thread or 2 alike
    torch.set_num_threads(threads)
    try:
        _check_the_autodecay_example()
    finally:
        torch.set_num_threads(before)


def _check_the_autodecay_example():
    example = load_file(ROOT / "examples" / "autodecay_drop_in.py", "autodecay_drop_in")
    rows = example.main(max_epochs=100, quiet=True)
    decays = [r["epoch"] for r in rows if r["action"] == "decay"]
    assert decays and rows[-1]["action"] == "stop" and len(rows) < 100   # the rule, not the budget, ended it
    for r in rows:   # every epoch trained at 0.1 × 0.1^(decays answered before it), in the optimizer itself
        assert r["lr"] == pytest.approx(0.1 * 0.1 ** sum(d < r["epoch"] for d in decays), rel=1e-12)
    assert rows[-1]["loss"] < rows[0]["loss"] / 2


@pytest.mark.parametrize("argv, named", [
    (["--max-epochs", "0"], "--max-epochs: '0' is not allowed: an integer >= 1"), (["--max-epochs", "-3"], "--max-epochs"),
    (["--max-epochs", "2.5"], "--max-epochs"), (["--lr", "0"], "--lr: '0' is not allowed: a finite number > 0"),
    (["--lr", "-1"], "--lr"), (["--lr", "inf"], "--lr"), (["--lr", "nan"], "--lr"),
    (["--seed", str(2**64)], "--seed: '18446744073709551616' is not allowed"), (["--seed", "x"], "--seed")])
def test_the_autodecay_examples_bad_arguments_are_argparse_errors(argv, named, capsys):
    example = load_file(ROOT / "examples" / "autodecay_drop_in.py", "autodecay_drop_in")
    with pytest.raises(SystemExit) as stop:
        example.parse_args(argv)
    assert stop.value.code == 2 and f"error: argument {named}" in capsys.readouterr().err
    assert vars(example.parse_args(["--max-epochs", "1", "--seed", "-1"])) == {"max_epochs": 1, "lr": 0.1, "seed": -1}


def test_the_autodecay_example_run_with_no_epochs_says_so_without_a_traceback():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "examples/autodecay_drop_in.py", "--max-epochs", "0"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--max-epochs" in proc.stderr


def test_the_imports_docs_adding_a_claim_lists_are_what_lrsci_has():
    import re

    text = (ROOT / "docs" / "adding-a-claim.md").read_text()
    block = re.search(r"What a claim module imports.*?```python\n(.*?)```", text, re.S).group(1)
    exec(compile(block, "docs/adding-a-claim.md", "exec"), {})   # an ImportError names what the doc gets wrong
