"""Apply autodecay-matches-stepdecay's calibration rule (lrsci.autodecay_calibration) for one profile, once.

    python tools/calibrate_autodecay.py --profile gpu [--dev-seeds 3] [--run-store .runs] [--data-root DIR]

Trains AutoDecay alone, 45 epochs at most, on dev seeds 1000, 1001, ... for every (weight decay, tolerance)
of the rule, all at once; writes claims/calibration/autodecay-<profile>.json with every dev run's decisions
and the chosen (E, weight decay, tolerance). The claim's profile reads it from there. It refuses to
overwrite an existing calibration, and exits 1 when no candidate qualified.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import autodecay_calibration as rule
    from lrsci import calibration
    from lrsci.provenance import provenance

    ap = calibration.arguments(__doc__.split("\n\n")[0])
    args = ap.parse_args(argv)
    profile, ctx = calibration.dev_context(ap, args, "autodecay-matches-stepdecay", "autodecay_calibration",
                                           rule.path_for)
    record = rule.apply(ctx, profile.run, profile["factor"])
    record.update(profile=args.profile, device=profile.device, provenance=provenance(str(ctx.device)))
    path = rule.write(record, args.profile, Path(args.out_dir) if args.out_dir else None)
    print(json.dumps({"chosen": record["chosen"], "dev_seeds": record["dev_seeds"]}), "->", path)
    return 0 if record["chosen"] is not None else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from lrsci.calibration import interruptible

    sys.exit(interruptible(main, "calibrate_autodecay"))
