"""kube-scheduler's NodeResourcesFit scores, shared by the two k8s baselines.

Follows kube-scheduler's ``LeastAllocated`` and ``MostAllocated`` scoring
strategies with every resource of the problem at weight 1: per resource,
``(capacity - requested) * 100 / capacity`` (least) or
``requested * 100 / capacity`` (most), in integer arithmetic, where
``requested`` counts what is already committed on the node plus the job;
resources the node has none of are left out, and the node's score is the
integer mean. kube-scheduler looks at one instant; here ``requested`` is the
peak over the slots the job would run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._common import EPS, start_then_rule, window_free

if TYPE_CHECKING:
    from allocopt.greedy import Options, Scheduler
    from allocopt.prepared import Prepared


def node_scores(opts: Options, sched: Scheduler, j: int, most: bool,
                cols: np.ndarray | None = None) -> np.ndarray:
    """(k, len(cols)) integer scores 0..100 of each candidate node at the
    starts ``opts.starts[cols]`` (default: every start)."""
    p: Prepared = sched.prep
    starts = opts.starts if cols is None else opts.starts[cols]
    cap = p.capacity[opts.nodes][:, None, :]  # (k, 1, R)
    free_after = window_free(sched, opts.nodes, starts, int(p.duration[j])) - p.demand[j]
    requested = cap - free_after
    has = cap > 0
    share = (requested if most else free_after) / np.where(has, cap, 1.0)
    per = np.where(has & (requested <= cap + EPS), np.floor(share * 100 + EPS), 0.0)
    per = np.clip(per, 0.0, 100.0)
    count = has.sum(axis=-1)
    return np.where(count > 0, np.floor(per.sum(axis=-1) / np.maximum(count, 1)), 0.0)


def k8s_key(opts: Options, sched: Scheduler, j: int, most: bool) -> np.ndarray:
    """Earliest start, then the highest score, then the first node (exact integers)."""
    n1 = float(sched.prep.N + 1)

    def penalty(cols: np.ndarray) -> np.ndarray:
        # 100 - score in 0..100, times (N + 1) so that the node index breaks ties.
        return (100.0 - node_scores(opts, sched, j, most, cols)) * n1

    key = start_then_rule(opts, sched, j, penalty, 100.0 * n1)
    return key + opts.nodes[:, None]
