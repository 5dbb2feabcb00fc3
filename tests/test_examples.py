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


def test_the_imports_docs_adding_a_claim_lists_are_what_lrsci_has():
    import re

    text = (ROOT / "docs" / "adding-a-claim.md").read_text()
    block = re.search(r"What a claim module imports.*?```python\n(.*?)```", text, re.S).group(1)
    exec(compile(block, "docs/adding-a-claim.md", "exec"), {})   # an ImportError names what the doc gets wrong
