#!/usr/bin/env bash
# The benchmark protocol of benchmarks/README.md: every run behind its tables.
#
#   benchmarks/protocol.sh [EXTERNAL_DIR]
#
# EXTERNAL_DIR holds the classic sets (PSPLIB j30, BPPLIB, vector bin packing),
# which are not in the repository (licenses); default ../shared/data/external.
# Runs are sequential (--jobs 1) with 2 solver threads each, so timings are fair
# on a 2-core machine. Results go to results/*.jsonl (resumable: rerunning skips
# rows already there), the report to results/report/.
set -euo pipefail
cd "$(dirname "$0")/.."
EXT=${1:-../shared/data/external}
B=${ALLOCOPT:-.venv/bin/allocopt}
R=results
BASE=first-fit,first-fit-decreasing,best-fit-decreasing,priority-greedy,k8s-least-allocated,k8s-most-allocated,edf,random,carbon-agnostic,carbon-greedy
run() { "$B" bench --workers 2 --no-report "$@"; }

# Synthetic suites: the exact solvers against the greedy planner and every baseline.
run --suite small --solvers greedy,cpsat,pulp,pulp-highs,$BASE --time-limit 10 --out $R/small.jsonl
for t in 2 5 30; do  # quality against the time limit (the report plots it)
  run --suite small --solvers cpsat --time-limit $t --out $R/small.jsonl
done
run --suite medium --solvers greedy,cpsat,pulp,pulp-highs,$BASE --time-limit 60 --out $R/medium.jsonl
run --suite large --solvers greedy,cpsat,carbon-agnostic,priority-greedy --seeds 0-2 --time-limit 60 --lp-bound --out $R/large.jsonl
run --suite tight-small --solvers greedy,cpsat,$BASE --time-limit 10 --out $R/tight-small.jsonl
run --suite tight-medium --solvers greedy,cpsat,$BASE --time-limit 60 --out $R/tight-medium.jsonl
# Real data: a week of 2023 carbon and prices on 8 zones, jobs from the Alibaba trace.
run --suite real-week --solvers greedy,cpsat,$BASE --time-limit 60 --out $R/real-week.jsonl
# Classic instances with published optima (a sample of each set, file-name order).
if [ -d "$EXT" ]; then
  run --suite "psplib:$EXT/psplib_rcpsp_j30/j30" --sample 10 --solvers greedy,cpsat,pulp-highs --time-limit 10 --out $R/classic-psplib.jsonl
  run --suite "bpplib:$EXT/bpplib_1d_binpacking/Falkenauer/Falkenauer_T" --sample 5 --solvers greedy,cpsat,first-fit-decreasing,best-fit-decreasing --time-limit 10 --out $R/classic-bpplib.jsonl
  run --suite "vbp:$EXT/vbp_mommessin2024/Panigrahy_instances_multidim/class1" --sample 5 --solvers greedy,cpsat,first-fit-decreasing,best-fit-decreasing --time-limit 10 --out $R/classic-vbp.jsonl
fi
# The greedy planner at scale (2,000 and 20,000 jobs): seconds and peak memory.
"$B" bench --suite gen:large --solvers greedy --time-limit 60 --no-report --out $R/greedy-scale.jsonl
"$B" bench --suite gen:xl --solvers greedy --time-limit 120 --no-report --out $R/greedy-scale.jsonl

"$B" solve data/bench/small/small-s0.json --time-limit 10 --workers 2 --quiet --out $R/small-s0.plan.json || true
"$B" report $R/*.jsonl --out $R/report --plan-problem data/bench/small/small-s0.json --plan $R/small-s0.plan.json
