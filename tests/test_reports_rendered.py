"""The committed reports' Markdown is what the code renders from their result.json and the claim modules'
notes now: a reading corrected in a module, or a change of how a table prints, shows in reports/ only once
`lrsci report` is run, and this test says when that was forgotten. (Figures are not compared: their PNG
bytes depend on the matplotlib build.)"""
import shutil

import pytest

from lrsci import figures, report
from lrsci.catalog import load_claims
from tests.helpers import ROOT

REPORTS = ROOT / "reports"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("rendered")
    claims = {cid: claim for cid, (claim, _) in load_claims(ROOT).items()}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(figures, "render", lambda spec, path: None)
        for path in sorted(REPORTS.glob("*/result.json")):
            (out / path.parent.name).mkdir()
            shutil.copy(path, out / path.parent.name / "result.json")
            report.render_claim(out / path.parent.name, claims)
        report.render_index(out, claims)
    return out


@pytest.mark.parametrize("name", ["README.md", *sorted(f"{p.parent.name}/report.md" for p in REPORTS.glob("*/result.json"))])
def test_the_committed_markdown_is_what_the_code_renders_now(rendered, name):
    assert (rendered / name).read_text() == (REPORTS / name).read_text(), (
        f"reports/{name} is not what the code renders from its result.json now: run `lrsci report` and commit")
