"""The committed reports' Markdown is what the code renders from their result.json and the claim modules'
notes now: a reading corrected in a module, or a change of how a table prints, shows in reports/ only once
`lrsci report` is run, and this test says when that was forgotten. The same for every folder of reports
run on other seeds (reports/replication/<name>/). (Figures are not compared: their PNG bytes depend on the
matplotlib build.)"""
import shutil

import pytest

from lrsci import figures, report
from lrsci.catalog import load_claims
from tests.helpers import ROOT

REPORTS = ROOT / "reports"
ROOTS = [REPORTS, *report.replication_roots(REPORTS)]


def markdown_files():
    for root in ROOTS:
        rel = root.relative_to(REPORTS)
        yield str(rel / "README.md")
        yield from sorted(str(rel / p.parent.name / "report.md") for p in root.glob("*/result.json"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("rendered")
    claims = {cid: claim for cid, (claim, _) in load_claims(ROOT).items()}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(figures, "render", lambda spec, path: None)
        for root in ROOTS:
            target = out / root.relative_to(REPORTS)
            for path in sorted(root.glob("*/result.json")):
                (target / path.parent.name).mkdir(parents=True)
                shutil.copy(path, target / path.parent.name / "result.json")
                report.render_claim(target / path.parent.name, claims)
        for root in ROOTS:   # once every folder is there: an index links the replications and controls below it
            if (root / "controls").is_dir():   # written by their tools, not rendered: as they are
                shutil.copytree(root / "controls", out / root.relative_to(REPORTS) / "controls")
            for beside in root.glob("*.md"):   # an analysis a tool wrote beside the reports (noise-gap.md): likewise
                if beside.name != "README.md":
                    shutil.copy(beside, out / root.relative_to(REPORTS) / beside.name)
            report.render_index(out / root.relative_to(REPORTS), claims)
    return out


@pytest.mark.parametrize("name", list(markdown_files()))
def test_the_committed_markdown_is_what_the_code_renders_now(rendered, name):
    assert (rendered / name).read_text() == (REPORTS / name).read_text(), (
        f"reports/{name} is not what the code renders from its result.json now: run `lrsci report` and commit")
