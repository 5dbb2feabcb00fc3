"""lrsci.switches: every on/off LRSCI_* variable parses alike, and a value that is neither is refused by name."""
import pytest

from lrsci.switches import SWITCHES, switch_from_env


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize("raw, on", [("1", True), (" Yes ", True), ("on", True), ("TRUE", True),
                                     ("", False), ("0", False), ("off", False), ("No", False)])
def test_each_switch_reads_the_same_words(monkeypatch, name, raw, on):
    monkeypatch.setenv(name, raw)
    assert switch_from_env(name) is on


@pytest.mark.parametrize("name", SWITCHES)
def test_a_typo_is_refused_naming_the_variable_rather_than_read_as_off(monkeypatch, name):
    monkeypatch.setenv(name, "ture")   # before: LRSCI_CUDA_GRAPHS=ture silently trained without graphs
    with pytest.raises(ValueError, match=f"{name}='ture'"):
        switch_from_env(name)


def test_unset_is_off(monkeypatch):
    for name in SWITCHES:
        monkeypatch.delenv(name, raising=False)
        assert switch_from_env(name) is False
