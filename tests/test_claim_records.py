"""lrsci/claim.py and lrsci/driver.py (pinned by a mutation audit, 2026-11-27): what a report section records and when a
profile may be skipped."""
import dataclasses
import json
from pathlib import Path

import pytest

import tests.helpers
from lrsci import driver
from lrsci.claim import ClaimError, report_seeds
from lrsci.config import DataConfig, RunConfig

demo = tests.helpers.load_file(Path(tests.helpers.__file__).parent / "fixtures" / "demo_claim.py", "demo_claim_mut2")


class SectionOnly:
    """A ClaimContext stand-in: finish() hands back the section the driver built."""

    run_overrides: dict = {}   # the profile's own scale (no --set)

    def __init__(self, profile):
        self.seeds = report_seeds(profile)   # the profile's report seeds: the protocol's own run

    def check_can_report(self, claim_id):
        pass

    def finish(self, header, section):
        return section


def test_the_section_records_the_verdict_and_the_outcome_of_a_declared_failure():
    declared = driver.check(demo.CLAIM, demo.DECLARED, SectionOnly(demo.DECLARED))
    assert declared.outcome == "as declared"
    sec = declared.section
    assert sec["verdict"] == "not replicated"           # a declared failure is still not a replication
    assert sec["outcome"] == "as declared" and sec["expected_failures"] == {"second": "a2 is below b at this scale"}
    assert sec["outcome_message"] == declared.message
    unexpected = driver.check(demo.CLAIM, demo.DECLARED_PASSED, SectionOnly(demo.DECLARED_PASSED))
    assert (unexpected.outcome, unexpected.section["verdict"], unexpected.section["outcome"]) == \
        ("unexpected", "replicated", "unexpected")
    plain = driver.check(demo.CLAIM, demo.FAST, SectionOnly(demo.FAST))
    assert plain.section["verdict"] == "replicated" and "outcome" not in plain.section


def test_only_an_optional_profile_is_skipped_when_its_data_is_absent(tmp_path):
    run = RunConfig(data=DataConfig("cifar10"), device="cpu")
    required = dataclasses.replace(demo.FAST, run=run)
    optional = dataclasses.replace(demo.FAST, run=run, optional_data=True)
    assert driver.skip_reason(required, tmp_path) is None         # absent data must fail it, not skip it
    assert "cifar10" in driver.skip_reason(optional, tmp_path)


def test_the_context_store_reads_data_from_the_given_root(tmp_path):
    ctx = driver.context(demo.FAST, run_store=tmp_path / "r", report_dir=tmp_path / "p", data_root=tmp_path / "d")
    assert Path(ctx.store.data_root) == tmp_path / "d"


def test_the_protocol_records_the_run_config_and_derived_values_and_must_match_exactly():
    claim = dataclasses.replace(demo.CLAIM, derived=lambda p: {"eta": 0.25})
    proto = claim.protocol(demo.FAST)
    assert proto["eta"] == 0.25 and proto["run"] == demo.FAST.run.to_dict()
    stored = {k: v for k, v in proto.items() if k not in ("seeds", "first_seed", "run")}
    assert claim.ran_declared_parameters(demo.FAST, {"protocol": stored})
    assert not claim.ran_declared_parameters(demo.FAST, {"protocol": {**stored, "retired_param": 1}})
    assert not claim.ran_declared_parameters(demo.FAST, {"protocol": {**stored, "eta": 0.5}})
    assert not demo.CLAIM.ran_declared_parameters(demo.FAST, {"protocol": stored})   # derived eta not declared


def test_a_section_run_under_another_run_config_is_not_the_declared_protocol():
    proto = demo.CLAIM.protocol(demo.FAST)
    run = demo.FAST.run
    assert demo.CLAIM.ran_declared_parameters(demo.FAST, {"protocol": proto})
    for changed in (run.with_(**{"optim.lr": run.optim.lr * 2}), run.with_(epochs=run.epochs + 1)):
        assert not demo.CLAIM.ran_declared_parameters(demo.FAST, {"protocol": {**proto, "run": changed.to_dict()}})
    # its own config spelt otherwise (an int rate), or on another data seed (--data-seed, checked on its own): still it
    spelt = json.loads(json.dumps(proto))
    spelt["run"]["optim"]["lr"] = int(run.optim.lr) if run.optim.lr == int(run.optim.lr) else run.optim.lr
    spelt["run"]["data"]["seed"] = run.data.seed + 7
    assert demo.CLAIM.ran_declared_parameters(demo.FAST, {"protocol": spelt})
    unreadable = {**proto, "run": {**proto["run"], "retired_field": 1}}
    assert not demo.CLAIM.ran_declared_parameters(demo.FAST, {"protocol": unreadable})


def test_two_profiles_with_one_name_are_refused():
    with pytest.raises(ClaimError, match="unique names"):
        dataclasses.replace(demo.CLAIM, profiles=[demo.FAST, demo.FAST.extend("fast", seeds=4)])


def test_a_run_two_jobs_share_is_counted_once_as_trained(tmp_path, monkeypatch):
    """The same config in two arms trains once: its epochs count once in the report's provenance."""
    from lrsci.harness import Job

    ctx = tests.helpers.dev_context(tmp_path, monkeypatch, tests.helpers.blobs())
    cfg = tests.helpers.tiny_config(epochs=2)
    a, b = ctx.run_all([Job(cfg, "a"), Job(cfg, "b")])
    assert a.history == b.history and ctx.store.trained == [cfg.key()]
    assert ctx.throughput()["epochs_trained"] == 2


def test_a_worker_that_finds_its_run_already_stored_does_not_report_it_as_trained(tmp_path, monkeypatch):
    """Two workers given one run: only the one that trained it says so (the other loads it)."""
    from lrsci.executors import train_job
    from lrsci.harness import Job

    monkeypatch.setattr("lrsci.runs.load_data", lambda cfg, root=None: tests.helpers.blobs())
    job = Job(tests.helpers.tiny_config(epochs=1), "a")
    first, second = (train_job(str(tmp_path), None, job, False) for _ in range(2))
    assert (first[0], first[3], second[0], second[3]) == (job.config.key(), True, job.config.key(), False)
