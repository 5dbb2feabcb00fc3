#!/usr/bin/env bash
# Every gpu check of one device session, as one command (the device tool's machine: one GPU, 16 cores).
#
#   LRSCI_GIT=<commit> bash tools/device_session.sh [part ...]
#
# parts: gd-eta (the η rule, once; refuses if claims/calibration/gd-eta-gpu.json exists), gd-decay,
# gd-large, patch (both Li et al. patch claims), stage3, toy, v2 (the protocol-v2 gpu profiles of
# sgd-post-decay-boost, ps10-decay-learns-complex, large-lr-suppresses-noise and its point-noise
# variant; or one of them: sgd, ps10, noise), autodecay (v2: its calibration rule on GPU dev seeds, once,
# then its gpu profile), hessian (the WRN-16-4 10k-image Hessian benchmark, alone after throughput and before the claims, if DEADLINE leaves time), throughput
# (lrsci.throughput: plain loop, engine, K engine processes, K runs batched; and the batched engine's bf16
# tolerance test, and the captured step's; run first, alone on the GPU, since it times; GRAPHS=auto then lets the
# claims use captured steps if that test passed and it pays). Default: every part but sgd, ps10 and noise
# (v2 holds them). An unknown part stops the script before anything runs.
#
# Runs the checkout with PYTHONPATH (the device has its own PyTorch), Fashion-MNIST from .data/fmnist
# (git-ignored: name it in the device call's carry; without it, a part that reads it stops the script, exit 4,
# before anything runs; to make it here: mkdir -p .data/fmnist && cp /usr/share/datasets/fashion-mnist/*.gz
# .data/fmnist/, 30 MB), the run store in /tmp/runs. The claims run side by side (they share the GPU;
# one GPU at batch 128 is mostly idle with one run). Every claim's log and the reports go to $OUT as
# they finish, so a cut-off session still returns what was done.
#
# Sizing (measured on an H200, 2026-11-27): a 15-minute session leaves ~13 minutes of calls after the machine
# starts, at most 10 per call, and the machine stays warm only 30 s between calls (the run store in /tmp/runs
# survives a call cut off at DEADLINE only if the next call comes within those seconds). Side by side, ps10 v2
# (20 runs, 10 workers) took 429 s while sgd v2 (5 workers) and gd-large (5 workers) both missed a 530-s
# deadline and finished in a second call (82 s and 190 s more): about 20 processes on one GPU is the most
# that still pays. Budget of what remains (v1 speeds: AutoDecay's WRN on 30k images ~1.3 epochs/s on an H100
# with 9 workers): throughput ≤ 240 s and hessian ≤ 150 s run alone first; the AutoDecay calibration is up to
# 12 × 45 epochs (~400 s) and its final run 15 × E epochs (~340-510 s); noise v2 ~20M images (~500-900 s).
# So: session (1) `throughput hessian autodecay` with DEADLINE set, then at once (within 30 s, the machine
# still warm) a second call `autodecay` that resumes from /tmp/runs; session (2) `noise`, with GRAPHS=on if
# (1) measured that a captured step pays (GRAPHS=auto decides only when the throughput part runs too).
# After each call: `python tools/take_device_results.py <files_at>/results.tgz` takes what the session added
# (the gpu sections it trained, a calibration record it wrote, the throughput and Hessian benchmarks) and
# packs the taken sections' runs for CI; --dry-run first shows what it would take. The calibration record is
# written on the device, once: take it and commit claims/calibration/autodecay-gpu.json before any later
# call, or that call calibrates again (the record is checked in this tree, which the device copies).
# GRAPHS: off (default) | auto (after the throughput part, each captured step on its own evidence) | on
# (both captured steps, on a previous session's evidence).
# LRSCI_LOGS: where each part's log goes (default /tmp/lrsci-logs); OUT (default /tmp/out): what comes back.
set -u
KNOWN="throughput gd-eta gd-decay gd-large patch stage3 toy v2 sgd ps10 noise autodecay hessian"
for part in "$@"; do   # a misspelt part would otherwise run nothing and cost a machine start
  [[ " $KNOWN " == *" $part "* ]] || { echo "device_session.sh: unknown part '$part'; parts: $KNOWN" >&2; exit 2; }
done
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 LRSCI_DATA=$PWD/.data/fmnist LRSCI_RUNS=/tmp/runs LRSCI_PROGRESS=1
export LRSCI_GIT=${LRSCI_GIT:-unknown}
PARTS=${*:-throughput gd-eta gd-decay gd-large patch stage3 toy v2 autodecay hessian}
T0=$(date +%s)
stamp() { echo "[$(( $(date +%s) - T0 ))s] $*" | tee -a "$OUT/timeline.txt"; }
LOGS=${LRSCI_LOGS:-/tmp/lrsci-logs}; mkdir -p "$LOGS"   # the folder name is what take_device_results reads
pack() {  # everything so far in one file ($OUT returns at most 8), replaced atomically, one packer at a time
  # With the reports go their runs' JSON (histories, configs, cached transfers; no weights, a few MB): what
  # tools/pack_report_runs.py keeps so that CI can analyse the gpu reports again (their runs live only here).
  (
    flock 9
    local parent name list
    parent=$(dirname "$LRSCI_RUNS"); name=$(basename "$LRSCI_RUNS"); list=$(mktemp)
    (cd "$parent" 2>/dev/null && find "$name" -name '*.json' ! -path "$name/batches/*" 2>/dev/null) > "$list"
    # tar exits 1 when a file changed while it read it (a live log, a report renamed into place): still a good pack
    tar --warning=no-file-changed --warning=no-file-removed -czf "$OUT/results.tgz.tmp" reports claims/calibration \
      -C "$(dirname "$LOGS")" "$(basename "$LOGS")" -C "$parent" -T "$list" 2>/dev/null
    [ $? -le 1 ] && mv "$OUT/results.tgz.tmp" "$OUT/results.tgz"
    rm -f "$list"
  ) 9<"$OUT"   # the lock is on the folder it guards: no file of its own, none shared with another user's
}
left() { echo $(( ${DEADLINE:-100000} - $(date +%s) + T0 )); }  # DEADLINE: seconds this script may use in all
claim() {  # claim <module> <workers> [executor]: one claim's gpu profile through pytest, ended before DEADLINE
  # (timeout's SIGTERM reaches every process of the claim: each run ends its epoch with a checkpoint, within the
  # 5 s before SIGKILL, so a claim cut off here resumes in the next call on this machine; lrsci.interrupts)
  local t=$(( $(left) - 25 ))
  [ "$t" -gt 0 ] || { stamp "$1 skipped: no time left before DEADLINE"; return 0; }   # timeout 0 = no limit
  LRSCI_WORKERS=$2 LRSCI_EXECUTOR=${3:-local} timeout -k 5 "$t" python -m pytest "claims/test_$1.py" -m gpu --require-gpu -p no:cacheprovider -q -rA \
    --benchmark-json "$LOGS/bench-$1.json" >> "$LOGS/$1.txt" 2>&1
  stamp "$1 exit $?"; pack
}
has() { [[ " $PARTS " == *" $1 "* ]]; }
pays() {  # pays <graphed key> <eager key>: the throughput benchmark measured the first >= 1.2x the second
  # (an eager key holding one number per K is read at the K the graphed figure was measured at)
  python - "$LOGS/bench-throughput.json" "$1" "$2" <<'PY'
import json, sys
path, fast, slow = sys.argv[1:]
info = [b["extra_info"] for b in json.load(open(path))["benchmarks"] if fast in b["extra_info"]]
if not info:
    sys.exit(1)
i = info[0]
base = i[slow].get(str(i["processes_graphed_k"])) if isinstance(i[slow], dict) else i[slow]
sys.exit(0 if (i[fast] or 0) >= 1.2 * (base or float("inf")) else 1)
PY
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/timeline.txt" 2>&1
python -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])" >> "$OUT/timeline.txt"
# What every part needs, checked in a second rather than found missing by each part in turn
python -c "import torchvision, scipy, filelock, pytest, pytest_benchmark, matplotlib" >> "$OUT/timeline.txt" 2>&1 \
  || { echo "device_session.sh: a required package is missing on this machine (see above)" | tee -a "$OUT/timeline.txt" >&2; exit 3; }
stamp "start: $PARTS"
python -c "from lrsci.data.registry import load_data; from lrsci.config import DataConfig; load_data(DataConfig('fashion-mnist'))" \
  > "$LOGS/data.txt" 2>&1   # unpack the idx cache once, before the claims read it side by side
DATA_EXIT=$?; stamp "data ready exit $DATA_EXIT"
for part in $PARTS; do   # every part but these reads Fashion-MNIST: without it each would fail after its start-up
  case $part in throughput|ps10|noise|toy) ;; *) if [ "$DATA_EXIT" -ne 0 ]; then
    echo "device_session.sh: part '$part' needs Fashion-MNIST, which did not load from $LRSCI_DATA (carry .data/fmnist" \
      "in the device call; $LOGS/data.txt says why); nothing was run" | tee -a "$OUT/timeline.txt" >&2
    pack; exit 4; fi;; esac
done
if has throughput; then
  # the captured steps' tolerance tests first: GRAPHS=auto needs them, and a cut-off call loses what runs last
  LRSCI_BENCH_LOG="$LOGS/throughput-partial.jsonl" timeout ${THROUGHPUT_S:-240} python -m pytest tests/test_graphed.py tests/test_batched.py tests/test_benchmark_throughput.py \
    -m gpu --require-gpu -p no:cacheprovider -q -rA --benchmark-json "$LOGS/bench-throughput.json" > "$LOGS/throughput.txt" 2>&1
  stamp "throughput benchmark exit $?"
  python tools/benchmark_report.py "$LOGS/bench-throughput.json" >> "$LOGS/throughput.txt" 2>&1; pack
  # GRAPHS=auto: the claims train through captured steps only if, on this GPU, the captured step stayed within
  # tolerance of the eager one (its gpu test passed) and ran at least 1.2x faster: one run's step (the
  # Trainer), and the batched step (the batched executor, V2_EXECUTOR=batched), each on its own evidence.
  if [ "${GRAPHS:-off}" = auto ]; then
    if grep -q "^PASSED.*test_on_the_gpu_the_captured_step" "$LOGS/throughput.txt" \
       && pays engine_graphed_images_per_s engine_images_per_s; then
      export LRSCI_CUDA_GRAPHS=1; stamp "single runs train through captured CUDA graphs"; fi
    if grep -q "^PASSED.*test_on_the_gpu_the_captured_batched_step" "$LOGS/throughput.txt" \
       && pays batched_graphed_images_per_s batched_engine_images_per_s; then
      export LRSCI_BATCHED_CUDA_GRAPHS=1; stamp "batched runs train through captured CUDA graphs"; fi
  fi
fi

hessian() {  # the WRN-16-4 10k-image Hessian benchmark, if DEADLINE leaves time; alone on the GPU, since it times
  has hessian || return 0
  local t=$(( $(left) - 20 )); [ "$t" -gt 40 ] || { stamp "hessian benchmark skipped: ${t}s left"; return 0; }
  timeout $(( t < 150 ? t : 150 )) python -m pytest tests/test_benchmark_hessian.py -m gpu --require-gpu -p no:cacheprovider -q \
    --benchmark-json "$LOGS/bench-hessian.json" > "$LOGS/hessian.txt" 2>&1
  stamp "hessian benchmark exit $?"
  python tools/benchmark_report.py "$LOGS/bench-hessian.json" >> "$LOGS/hessian.txt" 2>&1; pack
}
if [ "${GRAPHS:-off}" = on ]; then   # a previous session's throughput part showed both captured steps pay
  export LRSCI_CUDA_GRAPHS=1 LRSCI_BATCHED_CUDA_GRAPHS=1; stamp "captured CUDA graphs on (GRAPHS=on)"
fi
hessian   # before the claims start: a time measured beside them would not be the GPU's
PIDS=()
# a call cut off at its limit still returns what was done. Its output goes to a log, not the call's: a `sleep`
# left holding the call's stdout would keep the device call open up to 45 s after the script ended
( while sleep 45; do pack; done ) >> "$LOGS/packer.txt" 2>&1 & PACKER=$!
if has gd-eta || has gd-decay || has gd-large; then (
  if has gd-eta; then
    # RESUME_ABOVE=R: an earlier call was cut off mid-grid with every rate <= R stable (its record: EARLIER, a file)
    LRSCI_WORKERS=3 timeout -k 5 $(( $(left) > 30 ? $(left) - 25 : 5 )) python tools/calibrate_gd_eta.py --profile gpu --dev-seeds 3 --run-store /tmp/runs \
      ${RESUME_ABOVE:+--resume-above "$RESUME_ABOVE" --earlier "${EARLIER:?RESUME_ABOVE needs EARLIER, the earlier record}"} \
      >> "$LOGS/gd_eta.txt" 2>&1
    stamp "gd eta calibration exit $?"; pack
  fi
  if has gd-decay; then claim gd_decay_no_benefit 8; fi
  if has gd-large; then claim gd_larger_lr_diverges 5; fi
) & PIDS+=($!); fi
if has autodecay; then (   # v2: the rule's constants on GPU dev seeds 1000-1002 (12 runs at once), then the final run
  t=$(( $(left) - 25 ))
  if [ ! -e claims/calibration/autodecay-gpu.json ] && [ "$t" -gt 0 ]; then
    LRSCI_WORKERS=12 timeout -k 5 "$t" python tools/calibrate_autodecay.py --profile gpu --run-store /tmp/runs \
      >> "$LOGS/autodecay_calibration.txt" 2>&1
    stamp "autodecay calibration exit $?"; pack
  fi
  claim autodecay_matches_stepdecay 15   # five seeds × three arms, one wave
) & PIDS+=($!); fi
if has patch; then (
  claim activation_noise_fixes_small_lr 15  # trains the large, small and noise arms: 15 runs, no second wave
  claim patch_memorized_by_small_lr 15      # loads large and small from the store
) & PIDS+=($!); fi
if has stage3; then ( claim stage3_less_transferable 5 ) & PIDS+=($!); fi
if has toy; then ( claim two_layer_learning_order 5 ) & PIDS+=($!); fi
if has v2 || has sgd; then ( claim sgd_post_decay_boost 5 ) & PIDS+=($!); fi
if has v2 || has ps10; then ( claim ps10_decay_learns_complex 10 ) & PIDS+=($!); fi   # four arms: 20 runs
if has v2 || has noise; then
  # V2_EXECUTOR=batched trains its plain arms as one vmapped model: set it only once the throughput part
  # has shown on this GPU that batching pays and the bf16 tolerance test passed.
  ( claim large_lr_suppresses_noise 15 "${V2_EXECUTOR:-local}" ) & PIDS+=($!)  # gpu, then gpu-point-noise: 25 + 15 new runs
fi
wait ${PIDS[@]+"${PIDS[@]}"}; pkill -P $PACKER 2>/dev/null; kill $PACKER 2>/dev/null
pack; stamp "done"
