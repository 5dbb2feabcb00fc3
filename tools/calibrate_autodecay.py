"""Apply autodecay-matches-stepdecay's calibration rule (lrsci.autodecay_calibration) for one profile, once.

    python tools/calibrate_autodecay.py --profile gpu [--dev-seeds 3] [--run-store .runs] [--data-root DIR]

Trains AutoDecay alone, 45 epochs at most, on dev seeds 1000, 1001, ... for every (weight decay, tolerance)
of the rule, all at once; writes claims/calibration/autodecay-<profile>.json with every dev run's decisions
and the chosen (E, weight decay, tolerance). The claim's profile reads it from there. It refuses to
overwrite an existing calibration, and exits 1 when no candidate qualified.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_SEED_OFFSET = 1000  # the development seed range of every lrsci protocol


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import autodecay_calibration as rule
    from lrsci import driver
    from lrsci.catalog import load_claims

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", required=True)
    ap.add_argument("--dev-seeds", type=int, default=3, help="number of dev seeds from 1000 (default 3)")
    ap.add_argument("--run-store", default=str(ROOT / ".runs"))
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out-dir", default=None, help="where the record goes (default claims/calibration)")
    args = ap.parse_args(argv)

    claim, _ = load_claims(ROOT)["autodecay-matches-stepdecay"]
    profile = {p.name: p for p in claim.profiles}.get(args.profile)
    if profile is None or "autodecay_calibration" not in profile.params:
        ap.error(f"profile {args.profile!r}: autodecay-matches-stepdecay's calibrated profiles are "
                 f"{[p.name for p in claim.profiles if 'autodecay_calibration' in p.params]}")
    out_dir = Path(args.out_dir) if args.out_dir else None
    if rule.path_for(args.profile, out_dir).exists():   # refuse before training, not after
        ap.error(f"{rule.path_for(args.profile, out_dir)} exists: this profile was already calibrated")
    ctx = driver.context(profile, run_store=args.run_store, report_dir=ROOT / "reports", data_root=args.data_root,
                         seeds=args.dev_seeds, seed_offset=DEV_SEED_OFFSET)
    record = rule.apply(ctx, profile.run, profile["factor"])
    record.update(profile=args.profile, device=profile.device)
    path = rule.write(record, args.profile, out_dir)
    print(json.dumps({"chosen": record["chosen"], "dev_seeds": record["dev_seeds"]}), "->", path)
    return 0 if record["chosen"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
