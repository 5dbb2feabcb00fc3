"""The patch claims' arms over a long stage after the anneal: docs/replication.md, replications 17 and 18.

    python -m pytest claims -m fast -k "activation-noise" --set epochs=40 --set anneal_epoch=10 \\
        --seeds 20 --seed-offset K --report-dir DIR --run-store STORE
    python tools/post_anneal.py --analysis noise-gap --report-dir DIR --run-store STORE

    (or -k "patch-memorized" and --analysis lead-gap)

Reads the report in DIR of the claim the analysis is about (lrsci.post_anneal.ANALYSES: noise-gap, the noise claim;
lead-gap, the patch claim) for its seeds and its scale, which must leave epochs after 2 × anneal_epoch; loads those
runs from STORE (training nothing: a missing run is an error naming it); and writes DIR/<analysis>.json (every
per-seed value, the tests, provenance) and DIR/<analysis>.md. It is written once: it refuses to replace a result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def arguments() -> argparse.ArgumentParser:
    from lrsci.post_anneal import ANALYSES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--analysis", choices=sorted(ANALYSES), default="noise-gap",
                    help="the noise's gain over the small LR (replication 17) or the large LR's lead (replication 18)")
    ap.add_argument("--report-dir", required=True, help="the folder the claim's report was written to (--report-dir)")
    ap.add_argument("--run-store", required=True, help="the run store the claim trained into (--run-store)")
    ap.add_argument("--data-root", default=None, help="where Fashion-MNIST is (default: as lrsci finds it)")
    return ap


def analysis(report_dir: Path, store_root: Path, name: str = "noise-gap", data_root=None) -> tuple[dict, dict, int]:
    """(the analysis, the section it rests on, the number of runs) from the report's runs in ``store_root``."""
    from lrsci import post_anneal
    from lrsci.beside_reports import report_runs

    section, profile, runs = report_runs(ROOT, report_dir, store_root, post_anneal.ANALYSES[name][0], data_root)
    ends, width = post_anneal.windows(profile), profile["final_window"]
    values = post_anneal.window_values(runs, width, ends)
    return post_anneal.analyse(name, values, ends, width), section, sum(len(v) for v in runs.values())


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT))
    from lrsci import post_anneal
    from lrsci.beside_reports import rests_on, write_once
    from lrsci.paired_rows import summary

    ap = arguments()
    args = ap.parse_args(argv)
    report_dir = Path(args.report_dir)
    path = report_dir / f"{args.analysis}.json"
    if path.exists():
        ap.error(f"{path} exists: this analysis was written already")
    try:
        result, section, n_runs = analysis(report_dir, Path(args.run_store), args.analysis, args.data_root)
    except (ValueError, LookupError) as exc:
        ap.error(str(exc))
    claim, number = post_anneal.ANALYSES[args.analysis][0], post_anneal.TITLES[args.analysis][1]
    out = {"claim": claim, "analysis_name": args.analysis, "protocol": f"docs/replication.md, replication {number}",
           "analysis": result, "runs": n_runs, **rests_on(section)}
    write_once(path, out, post_anneal.render(out))
    print(summary(result["tests"]))
    for key in post_anneal.SHARE_TITLES:
        for where, s in result.get(key, {}).items():
            print(f"{key.replace('_', ' ')}, {where}: {s['share']:.2f} {s['ci95']}")
    print(f"wrote {path} and {path.with_suffix('.md').name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
