"""Apply the GD claims' η rule (lrsci.eta_rule) for one profile on its development seeds, once.

    python tools/calibrate_gd_eta.py --profile gpu [--dev-seeds 3] [--run-store .runs] [--data-root DIR]
    python tools/calibrate_gd_eta.py --profile fast --set model.hidden=256 [--set epochs=800 ...]

Trains gd-decay-no-benefit's no-decay config of that profile at each grid rate, ascending, on dev seeds
1000, 1001, ... (as many as the profile has report seeds, unless --dev-seeds) until one diverges; writes
claims/calibration/gd-eta-<profile>.json with every dev run's outcome. Both GD claims' profiles read η
from there. With --set it applies the rule to the profile at that scale (any profile whose η follows the
rule, fast included) and writes gd-eta-<profile>@<scale>.json, which both GD claims read when run at that
scale. It refuses to overwrite an existing calibration.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import calibration, eta_rule
    from lrsci.overrides import describe
    from lrsci.provenance import provenance

    ap = calibration.arguments(__doc__.split("\n\n")[0], dev_seeds=None)
    calibration.add_scale_option(ap)
    ap.add_argument("--resume-above", type=float, default=None,
                    help="an earlier attempt was cut off after finding every grid rate up to this one stable on "
                         "every dev seed: start above it (the record says so, with --earlier)")
    ap.add_argument("--earlier", default=None, help="a JSON file: what the cut-off attempt found (copied into the record)")
    args = ap.parse_args(argv)
    if (args.resume_above is None) != (args.earlier is None):   # the record must say what the cut-off one found
        ap.error("--resume-above and --earlier go together: the rate up to which the cut-off attempt found every "
                 "dev seed stable, and the file of what it found")
    if args.resume_above is not None and not any(r > args.resume_above for r in eta_rule.GRID):
        ap.error(f"--resume-above {args.resume_above:g} leaves no grid rate to try (the grid ends at "
                 f"{max(eta_rule.GRID):g}): a record of nothing tried would fix 'no η' for good")
    asked = calibration.scale_of(ap, args)
    scale = eta_rule.rule_scale(asked)   # the test set's size does not change whether training diverges
    if asked and not scale:
        ap.error(f"--set {', '.join(asked)}: the size of the test set does not change training, so the η rule's "
                 "outcome is the profile's own; the GD claims run at it without a record of their own")
    if scale != asked:
        print(f"calibrate_gd_eta: {', '.join(k for k in asked if k not in scale)} left out of the scale: it changes "
              f"what is evaluated, not what trains; the record is for {describe(scale)}", file=sys.stderr)
    profile, ctx = calibration.dev_context(ap, args, "gd-decay-no-benefit", eta_rule.RECORD_PARAM, eta_rule.path_for,
                                           scale=scale, rule_param=eta_rule.RULE_PARAM)
    earlier = None
    if args.earlier:   # read before any training: a typo must not cost the grid
        try:
            earlier = json.loads(Path(args.earlier).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            ap.error(f"--earlier {args.earlier}: {exc}")
    grid = [r for r in eta_rule.GRID if args.resume_above is None or r > args.resume_above]
    record = eta_rule.apply(ctx, profile.run, grid=grid)
    record.update(profile=args.profile, device=profile.device, provenance=provenance(str(ctx.device)),
                  grid=list(eta_rule.GRID))
    if args.resume_above is not None:
        record["earlier_attempt"] = {"stable_rates_up_to": args.resume_above, "found": earlier}
    path = eta_rule.write(record, args.profile, Path(args.out_dir) if args.out_dir else None, scale)
    print(json.dumps({k: record[k] for k in ("eta_div", "eta", "dev_seeds")}), "->", path)
    return 0 if record["eta"] is not None else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    from lrsci.calibration import interruptible

    sys.exit(interruptible(main, "calibrate_gd_eta"))
