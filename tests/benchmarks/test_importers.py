"""Importers of classic benchmark instances (benchmarks/importers.py).

Every instance here is a tiny hand-made text in the exact source format,
written to ``tmp_path``; nothing is read from the shared data folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from allocopt.benchmarks import importers
from allocopt.benchmarks.importers import (
    import_bpplib,
    import_file,
    import_psplib,
    import_vbp,
    known_optimum,
    objective_from_plan,
)
from allocopt.plan import Assignment, Plan, SolveStatus
from allocopt.problem import Problem
from allocopt.validate import compute_metrics, validate

# --------------------------------------------------------------------------
# Instance texts
# --------------------------------------------------------------------------

#: 5 items, capacity 10, weights 6 5 4 3 2 (CRLF line ends, as many BPPLIB files).
BPP5 = "5\r\n10\r\n6\r\n5\r\n4\r\n3\r\n2\r\n"

#: 6 items, capacity 10, weights 4 4 3 3 3 3: first-fit decreasing needs 3 bins, OPT is 2.
BPP_FFD_LOSES = "6\n10\n4\n4\n3\n3\n3\n3\n"

#: 2 dimensions, capacities 10 and 8, 4 item types of multiplicity 1.
VBP4 = """2
10 8
4
6 2 1
5 5 1
4 3 1
3 6 1
"""

#: RCPSP: source 1, activities 2 (3 slots, R1 2), 3 (2 slots, R1 2),
#: 4 (2 slots, R1 1 and R2 1), sink 5; 1 -> 2, 3; 2, 3 -> 4 -> 5.
#: R1 capacity 3: activities 2 and 3 (2 + 2 = 4 > 3) cannot overlap.
SM_TINY = """************************************************************************
file with basedata            : tiny.bas
initial value random generator: 1
************************************************************************
projects                      :  1
jobs (incl. supersource/sink ):  5
horizon                       :  7
RESOURCES
  - renewable                 :  2   R
  - nonrenewable              :  0   N
  - doubly constrained        :  0   D
************************************************************************
PROJECT INFORMATION:
pronr.  #jobs rel.date duedate tardcost  MPM-Time
    1      3      0        5        2         5
************************************************************************
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          1           4
   4        1          1           5
   5        1          0
************************************************************************
REQUESTS/DURATIONS:
jobnr. mode duration  R 1  R 2
------------------------------------------------------------------------
  1      1     0       0    0
  2      1     3       2    0
  3      1     2       2    0
  4      1     2       1    1
  5      1     0       0    0
************************************************************************
RESOURCEAVAILABILITIES:
  R 1  R 2
    3    1
************************************************************************
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write ``text`` as ``tmp_path/name`` (bytes as given, CRLF kept) and return the path."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def plan_of(problem: Problem, assignments: list[Assignment]) -> Plan:
    """A plan of ``assignments`` with recomputed metrics."""
    metrics = compute_metrics(problem, assignments)
    return Plan(problem.name, SolveStatus.FEASIBLE, "hand", tuple(assignments), (), metrics)


def jobs_by_id(data: dict) -> dict[str, dict]:
    return {j["id"]: j for j in data["jobs"]}


# --------------------------------------------------------------------------
# BPPLIB
# --------------------------------------------------------------------------


def test_bpplib_mapping(tmp_path):
    """Items become required 1-slot jobs "1".."n" on one node entry of bins."""
    data = import_bpplib(write(tmp_path, "toy_bpp.txt", BPP5))
    Problem.from_dict(data)  # must be accepted as is
    assert data["name"] == "toy_bpp"
    assert "BPPLIB" in data["description"]
    assert data["horizon"] == {"slots": 1}
    assert data["resources"] == ["size"]
    assert len(data["regions"]) == 1
    (node,) = data["nodes"]
    assert node["capacity"] == {"size": 10}
    assert node["cost_per_slot"] == 1.0
    # FFD: 6 -> bin A; 5 -> bin B; 4 -> A (10); 3 -> B (8); 2 -> B (10): 2 bins.
    assert node["count"] == 2
    # ids are 1-based item indices in file order, demand = weight
    assert [j["id"] for j in data["jobs"]] == ["1", "2", "3", "4", "5"]
    assert [j["demand"]["size"] for j in data["jobs"]] == [6, 5, 4, 3, 2]
    assert all(j["required"] and j["duration"] == 1 for j in data["jobs"])


def test_bpplib_count_is_an_upper_bound_not_the_optimum(tmp_path):
    """The node count is FFD's bin count, which may exceed the optimum."""
    data = import_bpplib(write(tmp_path, "ffd_loses.txt", BPP_FFD_LOSES))
    # FFD: 4, 4 -> A (8); 3 -> B (3, A would be 11); 3 -> B (6); 3 -> B (9); 3 -> C.
    assert data["nodes"][0]["count"] == 3
    problem = Problem.from_dict(data)
    # OPT = 2: {4, 3, 3} = 10 twice (jobs 1, 3, 4 and 2, 5, 6); the plan names "bin#k".
    plan = plan_of(problem, [
        Assignment(j, 0, 1, ("bin#0",)) for j in ("1", "3", "4")
    ] + [Assignment(j, 0, 1, ("bin#1",)) for j in ("2", "5", "6")])
    assert validate(problem, plan) == []
    # two active bins, each costing cost_per_slot 1 * H 1
    assert objective_from_plan("bpplib", plan.metrics) == 2.0


def test_bpplib_plan_objective_counts_bins(tmp_path):
    """node_cost of a plan for an imported instance is the number of bins used."""
    problem = Problem.from_dict(import_bpplib(write(tmp_path, "toy_bpp.txt", BPP5)))
    # bin#0: items 1 + 3 = 6 + 4 = 10; bin#1: items 2 + 4 + 5 = 5 + 3 + 2 = 10
    plan = plan_of(problem, [
        Assignment("1", 0, 1, ("bin#0",)), Assignment("3", 0, 1, ("bin#0",)),
        Assignment("2", 0, 1, ("bin#1",)), Assignment("4", 0, 1, ("bin#1",)),
        Assignment("5", 0, 1, ("bin#1",)),
    ])
    assert validate(problem, plan) == []
    assert objective_from_plan("bpplib", plan.metrics) == 2.0  # 2 bins x 1.0 x 1 slot
    assert objective_from_plan("bpplib", plan.to_dict()) == 2.0  # a whole plan dict works too


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("5\n10\n6\n5\n4\n", "end of file"),  # 3 weights of 5
        ("3\n10\n6\nx\n4\n", "line 4"),  # not an integer
        ("3\n10\n6\n11\n4\n", "line 4"),  # heavier than the bin
        ("2\n10\n6\n4\n9\n", "line 5"),  # extra data after the last item
        ("0\n10\n", "line 1"),  # no items
        ("10000000\n10\n1\n", "line 1"),  # absurd count, refused before reading weights
        ("3\n10\n6\n-5\n4\n", "line 4"),  # negative weight
    ],
)
def test_bpplib_malformed(tmp_path, text, fragment):
    """Malformed BPP files raise ValueError naming the file and the line."""
    path = write(tmp_path, "bad.txt", text)
    with pytest.raises(ValueError, match=fragment) as err:
        import_bpplib(path)
    assert "bad.txt" in str(err.value)


def test_refuses_oversized_files(tmp_path, monkeypatch):
    """Files over the size limit are refused before they are read."""
    monkeypatch.setattr(importers, "MAX_FILE_BYTES", 8)
    path = write(tmp_path, "big.txt", BPP5)  # 7 lines, 22 bytes with CRLF > 8
    with pytest.raises(ValueError, match="big.txt: file is 22 bytes"):
        import_bpplib(path)


# --------------------------------------------------------------------------
# VBP
# --------------------------------------------------------------------------


def test_vbp_mapping(tmp_path):
    """Each dimension becomes a resource r1..rd; items keep their row number."""
    data = import_vbp(write(tmp_path, "class1_4_2_0.vbp", VBP4))
    problem = Problem.from_dict(data)
    assert problem.name == "class1_4_2_0"
    assert data["resources"] == ["r1", "r2"]
    assert data["nodes"][0]["capacity"] == {"r1": 10, "r2": 8}
    assert data["horizon"] == {"slots": 1}
    jobs = jobs_by_id(data)
    assert list(jobs) == ["1", "2", "3", "4"]
    assert jobs["1"]["demand"] == {"r1": 6, "r2": 2}
    assert jobs["4"]["demand"] == {"r1": 3, "r2": 6}
    assert all(j["required"] and j["duration"] == 1 for j in data["jobs"])
    # FFD by sum of fractions: item 2 (.5+.625), 4 (.3+.75), 1 (.6+.25), 3 (.4+.375).
    # 2 -> A (5,5); 4 -> B (3,6) as A's r2 would be 11 > 8; 1 -> B (9,8);
    # 3 -> A (9,8): 2 bins, also the optimum (r1 sum 18 > 10).
    assert data["nodes"][0]["count"] == 2
    plan = plan_of(problem, [
        Assignment("2", 0, 1, ("bin#0",)), Assignment("3", 0, 1, ("bin#0",)),
        Assignment("4", 0, 1, ("bin#1",)), Assignment("1", 0, 1, ("bin#1",)),
    ])
    assert validate(problem, plan) == []
    assert objective_from_plan("vbp", plan.metrics) == 2.0


def test_vbp_multiplicity_expands_ids(tmp_path):
    """An item type with q > 1 gives jobs "i.1".."i.q"; q = 0 gives none."""
    text = "1\n10\n3\n4 1\n3 2\n9 0\n"
    data = import_vbp(write(tmp_path, "multi.vbp", text))
    Problem.from_dict(data)
    assert [j["id"] for j in data["jobs"]] == ["1", "2.1", "2.2"]
    # FFD: 4 + 3 + 3 = 10 fits one bin
    assert data["nodes"][0]["count"] == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2\n10 8\n2\n6 -2 1\n5 5 1\n", "line 4: item 1 has negative size -2"),
        ("2\n10 8\n2\n6 9 1\n5 5 1\n", "line 4: item 1 has size 9"),  # 9 > 8
        ("2\n10 8\n3\n6 2 1\n5 5 1\n", "end of file"),  # 2 rows of 3
        ("2\n10 8\n1\n6 2.5 1\n", "line 4"),  # not an integer
        ("100\n", "line 1"),  # more dimensions than resources allowed
    ],
)
def test_vbp_malformed(tmp_path, text, fragment):
    """Malformed .vbp files raise ValueError naming the file and the line."""
    with pytest.raises(ValueError, match=fragment) as err:
        import_vbp(write(tmp_path, "bad.vbp", text))
    assert "bad.vbp" in str(err.value)


# --------------------------------------------------------------------------
# PSPLIB
# --------------------------------------------------------------------------


def test_psplib_mapping(tmp_path):
    """Activities keep their numbers; the source is dropped; the sink carries the makespan."""
    data = import_psplib(write(tmp_path, "tiny.sm", SM_TINY))
    Problem.from_dict(data)
    assert data["name"] == "tiny"
    assert "PSPLIB" in data["description"]
    assert data["resources"] == ["R1", "R2"]
    (node,) = data["nodes"]
    assert node["capacity"] == {"R1": 3, "R2": 1}
    assert node.get("count", 1) == 1
    # horizon 7 (= 3 + 2 + 2) plus one slot for the sink
    assert data["horizon"] == {"slots": 8}
    jobs = jobs_by_id(data)
    assert list(jobs) == ["2", "3", "4", "5"]  # source "1" (duration 0) dropped
    assert jobs["2"]["duration"] == 3
    assert jobs["2"]["demand"] == {"R1": 2, "R2": 0}
    assert jobs["4"]["demand"] == {"R1": 1, "R2": 1}
    assert jobs["2"]["after"] == []  # its only predecessor was the source
    assert jobs["3"]["after"] == []
    assert jobs["4"]["after"] == ["2", "3"]
    sink = jobs["5"]
    assert sink["after"] == ["4"]
    assert (sink["duration"], sink["due"], sink["tardiness_penalty"]) == (1, 1, 1.0)
    assert sink.get("demand", {}) == {}
    assert all(j["required"] for j in data["jobs"])


def test_psplib_plan_cost_is_makespan(tmp_path):
    """A hand-made optimal schedule validates and its cost is the makespan."""
    problem = Problem.from_dict(import_psplib(write(tmp_path, "tiny.sm", SM_TINY)))
    # 2 and 3 need R1 2 + 2 = 4 > 3, so they run one after the other:
    # 2 in [0, 3), 3 in [3, 5), 4 in [5, 7); makespan 7; the sink runs in [7, 8).
    plan = plan_of(problem, [
        Assignment("2", 0, 3, ("project",)), Assignment("3", 3, 5, ("project",)),
        Assignment("4", 5, 7, ("project",)), Assignment("5", 7, 8, ("project",)),
    ])
    assert validate(problem, plan) == []
    # cost = tardiness of the sink = 1 * max(0, 8 - 1) = 7
    assert plan.metrics["cost"] == 7.0
    assert objective_from_plan("psplib", plan.metrics) == 7.0


def test_psplib_resource_capacity_is_enforced(tmp_path):
    """Running 2 and 3 in parallel breaks capacity: R1 demand 2 + 2 > 3."""
    problem = Problem.from_dict(import_psplib(write(tmp_path, "tiny.sm", SM_TINY)))
    plan = plan_of(problem, [
        Assignment("2", 0, 3, ("project",)), Assignment("3", 0, 2, ("project",)),
        Assignment("4", 3, 5, ("project",)), Assignment("5", 5, 6, ("project",)),
    ])
    assert {v.rule for v in validate(problem, plan)} == {"capacity"}


def test_psplib_contracts_zero_duration_activities(tmp_path):
    """A zero-duration activity in the middle is dropped; its predecessors pass on."""
    # activity 3 now takes 0 slots: 4 must still wait for 2 (through 3), not for 3
    text = SM_TINY.replace("  3      1     2       2    0", "  3      1     0       2    0")
    text = text.replace("   1        1          2           2   3",
                        "   1        1          1           2")
    text = text.replace("   2        1          1           4",
                        "   2        1          1           3")
    data = import_psplib(write(tmp_path, "chain.sm", text))
    Problem.from_dict(data)
    jobs = jobs_by_id(data)
    assert list(jobs) == ["2", "4", "5"]
    assert jobs["4"]["after"] == ["2"]
    # horizon 7 in the file, durations now sum to 3 + 0 + 2 = 5: max(7, 5) + 1
    assert data["horizon"]["slots"] == 8


def test_psplib_sink_after_every_job_without_successor(tmp_path):
    """A job with no successor is put before the sink, so cost covers it."""
    # job 3 loses its successor 4 (and no longer feeds the sink)
    text = SM_TINY.replace("   3        1          1           4", "   3        1          0")
    jobs = jobs_by_id(import_psplib(write(tmp_path, "loose.sm", text)))
    assert jobs["4"]["after"] == ["2"]
    assert jobs["5"]["after"] == ["3", "4"]


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        # sink with a duration
        ("  5      1     0       0    0", "  5      1     4       0    0",
         "line 32: the last job 5"),
        # successor out of range
        ("   4        1          1           5", "   4        1          1           9",
         "line 22: job 4 has invalid successor 9"),
        # successor count does not match the list
        ("   2        1          1           4", "   2        1          2           4",
         "line 20: job 2 declares 2 successors"),
        # two modes
        ("  2      1     3       2    0", "  2      2     3       2    0",
         "line 29: job 2 has mode 2"),
        # a request above the capacity
        ("  4      1     2       1    1", "  4      1     2       1    2",
         "line 31: job 4 requests 2 of R2"),
        # a missing request column
        ("  3      1     2       2    0", "  3      1     2       2", "line 30"),
        # garbage in a row
        ("  3      1     2       2    0", "  3      1     2       two  0", "line 30"),
        # a cycle 4 -> 2 -> 4
        ("   4        1          1           5", "   4        1          2           5   2",
         "cycle through jobs"),
        # missing section
        ("RESOURCEAVAILABILITIES:", "AVAILABILITIES:", "no 'RESOURCEAVAILABILITIES:' section"),
        # missing header line
        ("horizon                       :  7", "", "no 'horizon' line"),
        # nonrenewable resources
        ("nonrenewable              :  0", "nonrenewable              :  1", "nonrenewable"),
    ],
)
def test_psplib_malformed(tmp_path, old, new, fragment):
    """Malformed .sm files raise ValueError naming the file (and the line where there is one)."""
    # SM_TINY line numbers: precedence rows of jobs 1..5 are lines 19..23,
    # request rows of jobs 1..5 are lines 28..32.
    assert old in SM_TINY
    path = write(tmp_path, "bad.sm", SM_TINY.replace(old, new, 1))
    with pytest.raises(ValueError, match=fragment) as err:
        import_psplib(path)
    assert "bad.sm" in str(err.value)


# --------------------------------------------------------------------------
# Dispatch, objective, optima
# --------------------------------------------------------------------------


def test_import_file_dispatches(tmp_path):
    """import_file picks the importer by kind and rejects unknown kinds."""
    assert import_file("bpplib", write(tmp_path, "a.txt", BPP5))["resources"] == ["size"]
    assert import_file("vbp", write(tmp_path, "b.vbp", VBP4))["resources"] == ["r1", "r2"]
    assert import_file("psplib", write(tmp_path, "c.sm", SM_TINY))["resources"] == ["R1", "R2"]
    with pytest.raises(ValueError, match="unknown instance kind 'mps'"):
        import_file("mps", tmp_path / "a.txt")


def test_objective_from_plan_rejects_bad_metrics():
    """Unplaced jobs, missing metrics and unknown kinds are errors, not numbers."""
    # psplib reads cost, bin packing reads node_cost
    assert objective_from_plan("psplib", {"cost": 43.0, "node_cost": 0.0}) == 43.0
    assert objective_from_plan("vbp", {"cost": 6.0, "node_cost": 6.0}) == 6.0
    with pytest.raises(ValueError, match="unplaced"):
        objective_from_plan("bpplib", {"node_cost": 1.0, "unplaced_jobs": 2})
    with pytest.raises(ValueError, match="'node_cost'"):
        objective_from_plan("bpplib", {"cost": 1.0})
    with pytest.raises(ValueError, match="unknown instance kind"):
        objective_from_plan("tsp", {"cost": 1.0})


def test_known_optimum_bpplib(tmp_path):
    """optimal_values.csv beside the source folder answers; open rows give None."""
    write(tmp_path, "bpp/optimal_values.csv",
          "set,path,instance,n_items,capacity,sum_weights,L1_ceil_sum_over_c,lb,ub,status\n"
          "Toy,Toy/sub/toy_a.txt,toy_a,5,10,20,2,2,2,optimal\n"
          "Toy,Toy/sub/toy_b.txt,toy_b,5,10,20,2,2,3,open\n")
    a = write(tmp_path, "bpp/Toy/sub/toy_a.txt", BPP5)
    b = write(tmp_path, "bpp/Toy/sub/toy_b.txt", BPP5)
    c = write(tmp_path, "bpp/Toy/sub/toy_c.txt", BPP5)
    assert known_optimum("bpplib", a) == 2.0  # lb = ub = 2
    assert known_optimum("bpplib", b) is None  # lb 2 < ub 3: not proven
    assert known_optimum("bpplib", c) is None  # not listed
    assert known_optimum("bpplib", tmp_path / "elsewhere.txt") is None  # no table above


def test_known_optimum_vbp_prefers_the_sets_own_table(tmp_path):
    """Names repeat across sets, so <Set>_instances_* reads <Set>_summary_known.csv."""
    head = "instance_name\tLB\tOPT\tbest_overall\tbest_IC\tbest_BC\tbest_MB-Pairing\tbest_MB-WFD\n"
    write(tmp_path, "vbp/Alpha_summary_known.csv", head + "class1_4_2_0\t2\t2\t2\t2\t2\t2\t2\n"
          "class1_4_2_1\t2\t-1\t3\t3\t3\t3\t3\n")
    write(tmp_path, "vbp/Beta_summary_known.csv", head + "class1_4_2_0\t3\t4\t4\t4\t4\t4\t4\n")
    alpha = write(tmp_path, "vbp/Alpha_instances_multidim/class1/class1_4_2_0.vbp", VBP4)
    unknown = write(tmp_path, "vbp/Alpha_instances_multidim/class1/class1_4_2_1.vbp", VBP4)
    beta = write(tmp_path, "vbp/Beta_instances_multidim/class1/class1_4_2_0.vbp", VBP4)
    assert known_optimum("vbp", alpha) == 2.0
    assert known_optimum("vbp", beta) == 4.0
    assert known_optimum("vbp", unknown) is None  # OPT = -1


def test_known_optimum_psplib(tmp_path):
    """j30_optimum.csv (problem,optimum) one folder up answers by file name."""
    write(tmp_path, "rcpsp/j30_optimum.csv", "problem,optimum\ntiny.sm,7\nother.sm,43\n")
    tiny = write(tmp_path, "rcpsp/j30/tiny.sm", SM_TINY)
    assert known_optimum("psplib", tiny) == 7.0
    assert known_optimum("psplib", write(tmp_path, "rcpsp/j30/nope.sm", SM_TINY)) is None
