"""Rebuild the trimmed real-data files in ``data/real/`` from their sources.

This script documents, as code, every trimming and conversion step described in
``data/real/README.md``. It is not imported by the package or the tests; the
files it writes are committed. Run it from the repository root::

    python data/real/build_real_data.py --source /path/to/external

where ``--source`` is a folder holding the upstream copies
(``carbon_intensity_electricitymaps_2023/``, ``electricity_prices_hourly/``,
``alibaba_gpu_traces/``, ``cloud_interregion_network/``). The data-centre fact
table (``datacenter_facts.json``) is hand-written, not generated.

Outputs (all timestamps are hour starts in UTC, year 2023):

- ``carbon_intensity_2023.csv``: direct gCO2eq/kWh per zone (ODbL 1.0);
- ``electricity_price_2023.csv``: USD/kWh per zone, fixed 2023 FX rates;
- ``alibaba_gpu_nodes.csv``, ``alibaba_gpu_pods.csv``: trace shapes;
- ``gcp_latency_ms.csv``, ``gcp_region_zones.json``: GCP latency matrix and
  GCP region -> Electricity Maps zone map, relabelled by GCP region id.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

OUT = Path(__file__).resolve().parent

# Electricity Maps zone ids, in column order; file prefix in the source folders.
ZONES = {
    "US-CAL-CISO": "US-CAL-CISO",
    "US-MIDA-PJM": "US-MIDA-PJM",
    "US-TEX-ERCO": "US-TEX-ERCO",
    "CA-ON": "CA-ON",
    "DE": "DE-LU",
    "GB": "GB",
    "SG": "SG",
    "AU-NSW": "AU-NSW",
}

# Fixed FX rates, USD per unit of currency: 2023 annual averages of the Federal
# Reserve Board's G.5A release (1 February 2024). CAD and SGD are quoted there
# per USD (1.3494 and 1.3428) and are inverted here.
FX_USD_PER_UNIT = {
    "USD": 1.0,
    "EUR": 1.0817,
    "CAD": 1.0 / 1.3494,
    "SGD": 1.0 / 1.3428,
    "AUD": 0.6644,
}

# Native currency and how to read the price file's timestamps, per zone
# (see the source README's table).
PRICE_SOURCES = {
    "US-CAL-CISO": ("USD", "utc"),
    "US-MIDA-PJM": ("USD", "utc"),
    "US-TEX-ERCO": ("USD", "offset"),
    "CA-ON": ("CAD", timezone(timedelta(hours=-5))),  # EST all year
    "DE": ("EUR", ZoneInfo("Europe/Paris")),
    "GB": ("EUR", ZoneInfo("Europe/Paris")),
    "SG": ("SGD", timezone(timedelta(hours=8))),
    "AU-NSW": ("AUD", timezone(timedelta(hours=10))),  # NEM time, AEST all year
}

YEAR_START = datetime(2023, 1, 1, tzinfo=UTC)
HOURS = 8760


def hour_label(h: int) -> str:
    """ISO label of hour ``h`` of 2023 (UTC hour start)."""
    return (YEAR_START + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%MZ")


def hour_index(t: datetime) -> int:
    """Hours from 2023-01-01T00:00Z to the aware datetime ``t``."""
    return int((t - YEAR_START).total_seconds() // 3600)


def build_carbon(src: Path) -> dict[str, int]:
    folder = src / "carbon_intensity_electricitymaps_2023"
    cols: dict[str, list[str]] = {}
    for zone, prefix in ZONES.items():
        with open(folder / f"{prefix}_2023_hourly.csv", encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == HOURS, (zone, len(rows))
        key = "Carbon Intensity gCO\u2082eq/kWh (direct)"
        values = []
        for h, row in enumerate(rows):
            t = datetime.fromisoformat(row["Datetime (UTC)"]).replace(tzinfo=UTC)
            assert hour_index(t) == h, (zone, h, row["Datetime (UTC)"])
            assert row["Zone Id"] == zone, (zone, row["Zone Id"])
            assert float(row[key]) >= 0
            values.append(row[key])
        cols[zone] = values
    with open(OUT / "carbon_intensity_2023.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["hour_utc", *ZONES])
        for h in range(HOURS):
            w.writerow([hour_label(h), *(cols[z][h] for z in ZONES)])
    return {z: len(v) for z, v in cols.items()}


def _read_prices(path: Path, how: object) -> dict[int, list[float]]:
    """UTC hour index -> the price values found for it (native unit / MWh)."""
    found: dict[int, list[float]] = defaultdict(list)
    seen_local: Counter[str] = Counter()
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for stamp, price in reader:
            naive = datetime.fromisoformat(stamp)
            if how == "utc":
                t = naive.replace(tzinfo=UTC)
            elif how == "offset":
                t = naive.astimezone(UTC)  # ISO stamp carries its own offset
            elif isinstance(how, ZoneInfo):
                # Naive local wall-clock time with DST. A wall time that does
                # not exist (spring forward) is a filler row: drop it. An
                # ambiguous one (fall back) appears once: read it as the first.
                local = naive.replace(tzinfo=how)
                back = local.astimezone(UTC).astimezone(how).replace(tzinfo=None)
                if back != naive:
                    continue
                seen_local[stamp] += 1
                t = local.replace(fold=seen_local[stamp] - 1).astimezone(UTC)
            else:
                t = naive.replace(tzinfo=how).astimezone(UTC)  # fixed offset
            found[hour_index(t)].append(float(price))
    return found


def build_prices(src: Path) -> dict[str, dict[str, object]]:
    folder = src / "electricity_prices_hourly" / "2023"
    cols: dict[str, list[float]] = {}
    report: dict[str, dict[str, object]] = {}
    for zone, (cur, how) in PRICE_SOURCES.items():
        path = folder / f"{ZONES[zone]}_electricity_prices_2023.csv"
        found = _read_prices(path, how)
        merged: dict[int, float] = {}
        for h, vals in found.items():
            if not 0 <= h < HOURS:
                continue
            if len(vals) == 1:
                merged[h] = vals[0]
            elif zone == "AU-NSW" and len(vals) == 2:
                # Month-boundary split of one hour across two monthly files:
                # the first row is the single 5-min interval ending at hh:00,
                # the second the mean of the 11 intervals ending hh:05..hh:55.
                merged[h] = (vals[0] + 11 * vals[1]) / 12
            else:
                raise AssertionError((zone, h, vals))
        missing = [h for h in range(HOURS) if h not in merged]
        series = []
        for h in range(HOURS):
            if h in merged:
                series.append(merged[h])
                continue
            # Fill a missing hour with the same UTC hour of the nearest day
            # that has data (earlier day first).
            for k in range(1, 30):
                if h - 24 * k in merged:
                    series.append(merged[h - 24 * k])
                    break
                if h + 24 * k in merged:
                    series.append(merged[h + 24 * k])
                    break
            else:  # pragma: no cover - never happens with the 2023 files
                raise AssertionError((zone, h))
        usd_kwh = [v * FX_USD_PER_UNIT[cur] / 1000.0 for v in series]
        cols[zone] = usd_kwh
        report[zone] = {
            "currency": cur,
            "imputed": [hour_label(h) for h in missing],
            "negative_hours": sum(v < 0 for v in usd_kwh),
            "mean_usd_per_kwh": round(sum(usd_kwh) / HOURS, 5),
            "min": round(min(usd_kwh), 5),
            "max": round(max(usd_kwh), 5),
        }
    with open(OUT / "electricity_price_2023.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["hour_utc", *PRICE_SOURCES])
        for h in range(HOURS):
            w.writerow([hour_label(h), *(_num(cols[z][h], 6) for z in PRICE_SOURCES)])
    return report


def _num(x: float, digits: int) -> str:
    """Shortest text of ``x`` rounded to ``digits`` decimals (no ``-0``)."""
    v = round(x, digits) + 0.0
    if v == int(v):
        return str(int(v))
    return repr(v)


def build_alibaba(src: Path) -> dict[str, int]:
    folder = src / "alibaba_gpu_traces" / "cluster-trace-gpu-v2023"
    with open(folder / "openb_node_list_all_node.csv", encoding="utf-8", newline="") as fh:
        nodes = [r for r in csv.DictReader(fh) if int(r["gpu"]) > 0]
    shapes = Counter(
        (r["model"], int(r["gpu"]), int(r["cpu_milli"]), int(r["memory_mib"])) for r in nodes
    )
    with open(OUT / "alibaba_gpu_nodes.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["model", "gpu", "cpu", "mem_gb", "count"])
        for (model, gpu, cpu_milli, mem_mib), count in sorted(shapes.items()):
            w.writerow([model, gpu, _num(cpu_milli / 1000, 3), _num(mem_mib / 1024, 4), count])

    with open(folder / "openb_pod_list_default.csv", encoding="utf-8", newline="") as fh:
        pods = list(csv.DictReader(fh))
    trace_end = max(int(p["deletion_time"]) for p in pods)
    kept = censored = 0
    with open(OUT / "alibaba_gpu_pods.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["pod", "gpu", "cpu", "mem_gb", "duration_h", "qos"])
        for p in pods:
            num_gpu = int(p["num_gpu"])
            if num_gpu < 1 or p["scheduled_time"] == "":
                continue  # CPU-only pods, and Pending pods that never ran
            gpu = num_gpu if num_gpu > 1 else int(p["gpu_milli"]) / 1000
            created, deleted = int(p["creation_time"]), int(p["deletion_time"])
            assert deleted >= created
            # Pods still running at the trace end have a cut-off (lower-bound) duration.
            censored += p["pod_phase"] == "Running" and deleted == trace_end
            w.writerow([
                int(p["name"].rsplit("-", 1)[1]),
                _num(gpu, 3),
                _num(int(p["cpu_milli"]) / 1000, 3),
                _num(int(p["memory_mib"]) / 1024, 4),
                _num((deleted - created) / 3600, 4),
                p["qos"],
            ])
            kept += 1
    return {"node_shapes": len(shapes), "gpu_nodes": len(nodes), "pods": kept, "censored": censored}


def build_network(src: Path) -> dict[str, int]:
    folder = src / "cloud_interregion_network"
    with open(folder / "gcp_dc_zonecode_mapper.json", encoding="utf-8") as fh:
        mapper: dict[str, str] = json.load(fh)
    with open(folder / "gcp_latency_matrix.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0][1:], rows[1:]
    regions = list(mapper)
    # Rows and columns are labelled by zone (us-east4 and us-east5 are both
    # US-MIDA-PJM); they follow the mapper's order, which we check.
    assert header == [mapper[r] for r in regions], "latency labels differ from mapper order"
    assert [r[0] for r in body] == header
    rename = {"AUS-NSW": "AU-NSW", "AUS-VIC": "AU-VIC"}  # current Electricity Maps ids
    with open(OUT / "gcp_latency_ms.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write(
            "# Modified by allocopt: rows/columns relabelled from Electricity Maps zone to GCP "
            "region id (by position); values unchanged. Source: umassos/decarbonization-potential "
            "shared_data/gcp_latency_matrix.csv, Apache-2.0 (see README.md).\n"
        )
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["origin", *regions])
        for region, row in zip(regions, body, strict=True):
            w.writerow([region, *row[1:]])
    with open(OUT / "gcp_region_zones.json", "w", encoding="utf-8") as fh:
        json.dump(
            {
                "notice": (
                    "Modified by allocopt from umassos/decarbonization-potential "
                    "shared_data/gcp_dc_zonecode_mapper.json (Apache-2.0): zone ids AUS-NSW "
                    "and AUS-VIC renamed to the current Electricity Maps ids AU-NSW and AU-VIC."
                ),
                "regions": {r: rename.get(z, z) for r, z in mapper.items()},
            },
            fh,
            indent=1,
        )
        fh.write("\n")
    return {"regions": len(regions)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=Path("/work/shared/data/external"))
    args = parser.parse_args()
    summary = {
        "carbon": build_carbon(args.source),
        "prices": build_prices(args.source),
        "alibaba": build_alibaba(args.source),
        "network": build_network(args.source),
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
