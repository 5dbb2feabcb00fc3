"""pytest items generated from the declared claims: one per claim × profile.

Each ``claims/test_<id>.py`` declares ``CLAIM`` (see lrsci.claim); this plugin turns it into
items named ``<claim-id>[<profile>]``, marked ``fast`` (CPU profiles) or ``gpu`` (CUDA
profiles), so ``pytest claims -m fast``, ``-m gpu`` and ``-k sgd-post-decay-boost`` select
them. The item calls the one driver (lrsci.driver.check) and maps its outcome:
replicated → pass; the declared expected failures and nothing else → xfail with this run's
figures; anything else → fail — unless this run's per-seed numbers are not those of the committed
report on the same seeds and protocol (another CPU's rounding: lrsci.driver.numbers_not_committed)
and every criterion that decided otherwise has a 95 % interval overlapping its committed one
(lrsci.driver.decided_beyond_rounding): then it xfails saying so, since the declaration was written for
the committed numbers. Device profiles are timed by pytest-benchmark (one round) so
``--benchmark-json`` carries their throughput.
"""
from __future__ import annotations

from pathlib import Path

import pytest

COMMITTED_REPORTS = Path(__file__).resolve().parents[1] / "reports"   # what the declarations were written for


def pytest_pycollect_makemodule(module_path, parent):
    return ClaimModule.from_parent(parent, path=module_path)


class ClaimModule(pytest.Module):
    """A claim module: its declared profiles become items (plus any ordinary tests it holds)."""

    def collect(self):
        from lrsci.catalog import claim_of_module

        claim = claim_of_module(self.obj, self.path)  # a wrong or missing CLAIM is a collection error
        for profile in claim.profiles:
            # No originalname: pytest >= 9.2 builds the node id from it, which would give every profile one id.
            item = pytest.Function.from_parent(self, name=f"{claim.id}[{profile.name}]",
                                               callobj=_claim_test(claim, profile))
            item.add_marker(getattr(pytest.mark, profile.mark))
            item.lrsci_profile = profile
            yield item
        yield from super().collect()


def _other_seeds_in_committed(profile, opt) -> str | None:
    """Why ``profile``, run with this session's --seeds/--seed-offset/--data-seed/--report-dir, would put another
    seed range's report into the committed reports/ (lrsci.driver.refuse_other_seeds_in_committed); None if not."""
    from lrsci import driver

    if profile is None:
        return None
    try:
        driver.refuse_other_seeds_in_committed(profile, driver.seeds_of(profile, opt("--seeds"), opt("--seed-offset")),
                                               opt("--data-seed"), opt("--report-dir"), COMMITTED_REPORTS)
    except ValueError as exc:
        return str(exc)
    return None


def pytest_collection_finish(session):
    """Another seed range's report (--seeds, --seed-offset, --data-seed) is not the protocol's: a selected profile
    that would write one into the committed reports/ stops the session before anything trains (a usage error,
    as --set into reports/ is; lrsci.driver.refuse_other_seeds_in_committed)."""
    opt = session.config.getoption
    # an xdist worker cannot stop the session cleanly (its usage error is an internal error of the controller):
    # there each such item fails instead, before it trains (_claim_test)
    if opt("collectonly") or hasattr(session.config, "workerinput"):
        return
    refused = [f"{item.name}: {why}" for item in session.items
               if (why := _other_seeds_in_committed(getattr(item, "lrsci_profile", None), opt))]
    if refused:
        more = f" (and {len(refused) - 1} more selected profiles)" if len(refused) > 1 else ""
        raise pytest.UsageError(refused[0] + more)


def _claim_test(claim, profile):
    def test_claim(request):
        from lrsci import driver
        from lrsci.calibration import CalibrationError
        from lrsci.harness import benchmark_info

        opt = request.config.getoption
        reason = driver.skip_reason(profile, opt("--data-root"))
        if reason:
            pytest.skip(reason)
        refused = _other_seeds_in_committed(profile, opt)   # under xdist, not stopped at collection
        if refused:
            pytest.fail(f"{claim.id}[{profile.name}]: {refused}", pytrace=False)
        overrides = getattr(request.config, "lrsci_overrides", {})   # --set, parsed by the root conftest
        try:
            drawn = driver.with_run_overrides(driver.with_data_seed(profile, opt("--data-seed")), overrides, claim=claim)
        except ValueError as exc:   # a field the profile does not use, a size its data refuses (lrsci run: exit 2)
            pytest.skip(f"this profile cannot take it: {exc}")
        except CalibrationError as exc:   # it can, once its rule is applied at that scale: the message says how
            pytest.fail(f"{claim.id}[{profile.name}]: {exc}", pytrace=False)
        ctx = driver.context(profile, run_store=opt("--run-store"), report_dir=opt("--report-dir"),
                             data_root=opt("--data-root"), seeds=opt("--seeds"), seed_offset=opt("--seed-offset"),
                             run_overrides=overrides)
        committed = driver.committed_section(claim.id, profile.name, COMMITTED_REPORTS)   # before it is written over
        check = _at_scale(driver.check, overrides, f"{claim.id}[{profile.name}]")
        if profile.device == "cuda":
            benchmark = request.getfixturevalue("benchmark")
            result = benchmark.pedantic(check, args=(claim, drawn, ctx), rounds=1, iterations=1)
            benchmark.extra_info.update(benchmark_info(result.section))
            if claim.benchmark_info:
                benchmark.extra_info.update(claim.benchmark_info(result.section))
        else:
            result = check(claim, drawn, ctx)
        if result.outcome == "as declared":
            pytest.xfail(result.message)
        if result.outcome == "unexpected":
            moved = driver.numbers_not_committed(committed, result.section)
            # the same seeds, other numbers (another CPU's rounding), every moved decision's interval overlapping
            # its committed one: a finding about these runs, recorded in their report — not beyond that
            if moved and not driver.decided_beyond_rounding(committed, result.section):
                pytest.xfail(f"{claim.id}[{profile.name}]: NUMBERS NOT THE COMMITTED REPORT'S ({len(moved)} per-seed "
                             f"values differ, e.g. {moved[0]}; another CPU rounds otherwise), and on them {result.message}")
            pytest.fail(f"{claim.id}[{profile.name}]: {result.message}", pytrace=False)
    return test_claim


def _at_scale(check, overrides: dict, item: str):
    """``check``, whose refusal of a --set scale fails the item in one line: a run the claim sets the field of
    itself (lrsci.overrides.check_job), or one of its own values that does not fit the scale (a decay epoch
    past ``--set epochs``). Without --set nothing is caught: such an error is then a bug, with its traceback."""
    if not overrides:
        return check

    def checked(*args):
        from lrsci.config import ConfigError
        from lrsci.overrides import OverrideError, describe

        try:
            return check(*args)
        except (ConfigError, OverrideError) as exc:
            refused = exc
        # failed outside the handler, so pytest shows this one line, not the refusal chained under it
        pytest.fail(f"{item} at --set {describe(overrides)}: the claim cannot run at this scale: {refused}", pytrace=False)
    return checked
