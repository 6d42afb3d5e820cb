"""Look at a plan: one self-contained HTML page, or a PNG/SVG figure.

:func:`write_html` writes a single file with no network access at view time:
the data as embedded JSON and ~10 kB of hand-written JavaScript that draws
SVG (no chart library, so a 2,000-job plan stays well under 5 MB). It shows

* a Gantt chart by node, nodes grouped by region, one bar per replica coloured
  by priority tier; hovering a bar shows the job, tier, demand, start/end and
  the job's energy, cost and carbon (attributed as in :mod:`optimizer.records`);
* each region's facility power against its ``power_cap_kw``, and beneath it the
  price and carbon curves of every region, on the Gantt chart's time axis;
* the unplaced jobs with their reasons, the metrics, and bound and gap per
  objective stage;
* with a second plan (``compare``): both plans side by side and the jobs that
  moved (other start or nodes, placed in one plan only).

:func:`write_figure` draws the same charts with matplotlib (the ``plots``
extra) to a PNG or SVG file.

A plan naming jobs or nodes the problem lacks is refused
(:func:`check_plan_fits` raises :class:`~optimizer.errors.ProblemError`).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ProblemError
from .plan import Plan
from .problem import Problem
from .records import job_figures
from .validate import compute_metrics

#: Metrics shown in the page's and the CLI's figure tables: (key, label, unit).
METRIC_ROWS = (
    ("placed_jobs", "placed jobs", ""), ("unplaced_jobs", "unplaced jobs", ""),
    ("placed_value", "placed value", ""), ("energy_kwh", "energy", "kWh"),
    ("energy_cost", "energy cost", ""), ("carbon_kg", "carbon", "kg CO2e"),
    ("carbon_cost", "carbon cost", ""), ("tardiness", "tardiness", ""),
    ("node_cost", "node cost", ""), ("cost", "cost", ""), ("active_nodes", "active nodes", ""),
)


def check_plan_fits(problem: Problem, plan: Plan, label: str = "plan") -> None:
    """Raise :class:`ProblemError` naming every job or node of ``plan`` the problem lacks."""
    jobs = {j.id for j in problem.jobs}
    nodes = set(problem.node_names())
    errors: list[str] = []
    bad_jobs = sorted({a.job for a in plan.assignments} - jobs
                      | {u.job for u in plan.unplaced} - jobs)
    if bad_jobs:
        shown = ", ".join(repr(j) for j in bad_jobs[:10])
        more = f" and {len(bad_jobs) - 10} more" if len(bad_jobs) > 10 else ""
        errors.append(f"{label}: names {len(bad_jobs)} job(s) problem {problem.name!r} lacks: "
                      f"{shown}{more} (a plan of another problem?)")
    bad_nodes = sorted({n for a in plan.assignments for n in a.nodes} - nodes)
    if bad_nodes:
        shown = ", ".join(repr(n) for n in bad_nodes[:10])
        more = f" and {len(bad_nodes) - 10} more" if len(bad_nodes) > 10 else ""
        errors.append(f"{label}: names {len(bad_nodes)} node(s) problem {problem.name!r} lacks: "
                      f"{shown}{more}")
    if errors:
        raise ProblemError(errors)


def _sig(x: float, digits: int = 4) -> float | int:
    """``x`` to a few significant digits (keeps the embedded JSON small)."""
    if x == 0 or not math.isfinite(x):
        return 0
    v = round(x, max(0, digits - 1 - math.floor(math.log10(abs(x)))))
    return int(v) if float(v).is_integer() else v


def _series(val: Any, H: int) -> np.ndarray:
    if val is None:
        return np.zeros(H)
    if isinstance(val, (int, float)):
        return np.full(H, float(val))
    return np.asarray(val, dtype=float)


def _rel(a: float, b: float) -> float:
    den = max(abs(a), abs(b))
    return 0.0 if den < 1e-12 else max(0.0, abs(a - b) / den)


def stage_rows(problem: Problem, plan: Plan) -> list[dict[str, Any]]:
    """Bound and gap per objective stage: ``{"stage", "sense", "value", "bound", "gap"}``.

    The value is the plan's (recomputed metrics), the bound the plan's
    ``bound`` entry for that stage (None when it has none), the gap the
    plan's per-stage ``gaps`` entry when it carries one, else the relative
    difference of value and bound. Lexicographic: one row per tier (highest
    first) and ``cost``; weighted: one ``weighted`` row.
    """
    m = plan.metrics or compute_metrics(problem, plan.assignments)
    b = plan.bound or {}
    own = getattr(plan, "gaps", None) or {}
    rows: list[dict[str, Any]] = []

    def gap_for(keys: tuple[str, ...], value: float, bound: float | None) -> float | None:
        for k in keys:
            if isinstance(own, dict) and isinstance(own.get(k), (int, float)):
                return float(own[k])
        return None if bound is None else _rel(value, bound)

    if problem.objective.mode == "weighted":
        value = float(m["placed_value"] - m["cost"])
        bound = b.get("objective")
        rows.append({"stage": "weighted", "sense": "max", "value": value, "bound": bound,
                     "gap": gap_for(("weighted", "objective"), value, bound)})
        return rows
    tiers = b.get("placed_value_by_priority", {}) or {}
    for t in problem.tiers:
        value = float(m["placed_value_by_priority"].get(str(t), 0.0))
        bound = tiers.get(str(t))
        bound = None if bound is None else max(float(bound), value)
        rows.append({"stage": f"tier {t}", "sense": "max", "value": value, "bound": bound,
                     "gap": gap_for((f"tier {t}", str(t)), value, bound)})
    value = float(m["cost"])
    bound = b.get("cost")
    bound = None if bound is None else min(float(bound), value)
    rows.append({"stage": "cost", "sense": "min", "value": value, "bound": bound,
                 "gap": gap_for(("cost",), value, bound)})
    return rows


def moved_jobs(problem: Problem, a: Plan, b: Plan) -> list[dict[str, Any]]:
    """Jobs placed differently in ``b`` than in ``a``: other start or nodes,
    or placed in one plan only. ``{"job", "a", "b"}`` with short descriptions."""
    pa = {x.job: x for x in a.assignments}
    pb = {x.job: x for x in b.assignments}

    def desc(x: Any) -> str:
        return "unplaced" if x is None else f"{x.start}-{x.end} on {', '.join(x.nodes)}"

    out = []
    for j in problem.jobs:
        x, y = pa.get(j.id), pb.get(j.id)
        if x is None and y is None:
            continue
        if x is None or y is None or x.start != y.start or sorted(x.nodes) != sorted(y.nodes):
            out.append({"job": j.id, "a": desc(x), "b": desc(y)})
    return out


def view_data(problem: Problem, plans: list[tuple[str, Plan]]) -> dict[str, Any]:
    """The JSON the page draws from (compact: indices and rounded numbers)."""
    H = problem.horizon.slots
    job_index = {j.id: k for k, j in enumerate(problem.jobs)}
    region_order = {g.id: k for k, g in enumerate(problem.regions)}
    nodes = sorted(((name, n) for n in problem.nodes for name in n.names),
                   key=lambda nn: region_order[nn[1].region])
    node_index = {name: k for k, (name, _) in enumerate(nodes)}
    data: dict[str, Any] = {
        "title": problem.name, "slots": H, "slot_hours": problem.horizon.slot_hours,
        "tiers": list(problem.tiers),
        "regions": [], "plans": [],
        "nodes": [[name, region_order[n.region], n.type,
                   [[s, min(e, H)] for s, e in n.unavailable]] for name, n in nodes],
        "jobs": [[j.id, j.priority, ", ".join(f"{r} {q:g}" for r, q in j.demand.items()),
                  int(j.required), j.replicas, _sig(j.value)] for j in problem.jobs],
    }
    for r in problem.regions:
        data["regions"].append({
            "id": r.id,
            "price": [_sig(v) for v in _series(r.price_per_kwh, H)],
            "carbon": [_sig(v) for v in _series(r.carbon_g_per_kwh, H)],
            "cap": None if r.power_cap_kw is None else [_sig(v) for v in _series(r.power_cap_kw, H)],
        })
    for label, plan in plans:
        parts: dict[str, Any] = {}
        metrics = compute_metrics(problem, plan.assignments, _parts=parts)
        figs = job_figures(problem, plan)
        assigned = []
        for a in plan.assignments:
            f = figs.get(a.job, {})
            end = a.start + problem.jobs[job_index[a.job]].duration  # as the rules define it
            assigned.append([job_index[a.job], a.start, end, [node_index[n] for n in a.nodes],
                             _sig(f.get("energy_kwh", 0.0)), _sig(f.get("cost", 0.0)),
                             _sig(f.get("carbon_kg", 0.0))])
        data["plans"].append({
            "label": label, "status": str(plan.status), "solver": plan.solver,
            "fallback": plan.fallback, "seconds": round(plan.solve_seconds, 2),
            "interrupted": bool(getattr(plan, "interrupted", False)),
            "metrics": [[lab, _sig(float(metrics[k])), unit] for k, lab, unit in METRIC_ROWS
                        if k in metrics],
            "by_region": [[g, _sig(metrics["energy_kwh_by_region"][g]),
                           _sig(metrics["carbon_kg_by_region"][g])] for g in metrics["energy_kwh_by_region"]],
            "stages": [[s["stage"], _sig(s["value"]),
                        None if s["bound"] is None else _sig(s["bound"]),
                        None if s["gap"] is None else _sig(s["gap"])]
                       for s in stage_rows(problem, plan.replace(metrics=metrics))],
            "assigned": assigned,
            "unplaced": [[job_index[u.job], u.reason] for u in plan.unplaced],
            "power": [[_sig(v) for v in row] for row in parts["power"]],
        })
    if len(plans) == 2:
        data["moved"] = [[job_index[m["job"]], m["a"], m["b"]]
                         for m in moved_jobs(problem, plans[0][1], plans[1][1])]
    return data


def render_html(problem: Problem, plan: Plan, compare: Plan | None = None,
                labels: tuple[str, str] = ("plan", "compare")) -> str:
    """The page as a string (see the module docstring)."""
    check_plan_fits(problem, plan, labels[0])
    plans = [(labels[0], plan)]
    if compare is not None:
        check_plan_fits(problem, compare, labels[1])
        plans.append((labels[1], compare))
    data = json.dumps(view_data(problem, plans), separators=(",", ":"), allow_nan=False)
    data = data.replace("</", "<\\/")
    title = html.escape(f"allocopt plan: {problem.name}")
    return _PAGE.replace("{{TITLE}}", title).replace("{{DATA}}", data).replace("{{JS}}", _JS)


def write_html(problem: Problem, plan: Plan, out: str | Path, compare: Plan | None = None,
               labels: tuple[str, str] = ("plan", "compare")) -> Path:
    """Write :func:`render_html` to ``out`` (UTF-8); returns the path."""
    path = Path(out)
    path.write_text(render_html(problem, plan, compare, labels), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------
# PNG / SVG with matplotlib
# ---------------------------------------------------------------------------


def _need_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ProblemError(["PNG/SVG output needs matplotlib: pip install 'allocopt[plots]'"]) from None


def write_figure(problem: Problem, plan: Plan, out: str | Path) -> Path:
    """Draw the Gantt chart, regional power against caps, and price and carbon
    curves (shared time axis) into one PNG or SVG file (by ``out``'s suffix)."""
    _need_matplotlib()
    check_plan_fits(problem, plan)
    from matplotlib.figure import Figure

    from benchmarks.report import _gantt  # the report's Gantt chart, reused

    path = Path(out)
    H = problem.horizon.slots
    n_nodes = len(problem.node_names())
    gantt_h = min(40.0, max(3.0, 1.2 + 0.22 * n_nodes))
    fig = Figure(figsize=(min(18.0, 9.0 + H / 12), gantt_h + 7.5), layout="constrained", dpi=110)
    axes = fig.subplots(4, 1, sharex=True, height_ratios=[gantt_h, 3.0, 2.0, 2.0])
    _gantt(problem, plan, axes[0])
    parts: dict[str, Any] = {}
    compute_metrics(problem, plan.assignments, _parts=parts)
    edges = np.arange(H + 1)
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    for g, r in enumerate(problem.regions):
        c = cmap(g % 10)
        axes[1].stairs(parts["power"][g], edges, color=c, lw=1.4, baseline=None, label=r.id)
        if r.power_cap_kw is not None:
            axes[1].stairs(_series(r.power_cap_kw, H), edges, color=c, lw=1.0, ls="--",
                           baseline=None)
        axes[2].stairs(_series(r.price_per_kwh, H), edges, color=c, lw=1.2, baseline=None)
        axes[3].stairs(_series(r.carbon_g_per_kwh, H), edges, color=c, lw=1.2, baseline=None)
    axes[1].set_ylabel("facility kW\n(dashed: cap)", fontsize=8)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.03, 1.0))
    axes[2].set_ylabel("price / kWh", fontsize=8)
    axes[3].set_ylabel("carbon g/kWh", fontsize=8)
    for ax in axes[1:]:
        ax.grid(alpha=0.3)
    axes[3].set_xlabel(f"slot ({problem.horizon.slot_hours:g} h each)")
    axes[0].xaxis.set_tick_params(labelbottom=True)
    fig.savefig(path)
    return path


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<style>
body{font:13px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px}h2{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;margin:4px 0}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}
.cols{display:grid;grid-template-columns:repeat(var(--n),minmax(0,1fr));gap:16px}
svg{width:100%;height:auto;display:block}
.job{stroke:#222;stroke-width:.4}.job.req{stroke-width:1.4}.job.moved{stroke:#d00;stroke-width:1.6}
.job:hover{opacity:.7}
#tip{position:fixed;pointer-events:none;background:#fff;border:1px solid #888;padding:4px 6px;
font-size:12px;display:none;white-space:pre;box-shadow:1px 1px 4px #0003}
.err{color:#b00}.small{color:#666;font-size:12px}
</style></head><body>
<h1>{{TITLE}}</h1><div id="app">rendering...</div><div id="tip"></div>
<script type="application/json" id="data">{{DATA}}</script>
<script>{{JS}}</script></body></html>
"""

_JS = r"""
(function(){
"use strict";
var D=JSON.parse(document.getElementById('data').textContent);
var H=D.slots,PAL=['#d62728','#ff7f0e','#2ca02c','#1f77b4','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
var RC=['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function num(x){if(x===null||x===undefined)return '-';var a=Math.abs(x);
 if(Number.isInteger(x))return x.toLocaleString('en-US');
 if(a>=100)return x.toLocaleString('en-US',{maximumFractionDigits:1});
 if(a>=1)return x.toLocaleString('en-US',{maximumFractionDigits:2});return x.toPrecision(3);}
function pct(x){return x===null||x===undefined?'-':(100*x).toFixed(2)+'%';}
function tierColor(t){var i=D.tiers.indexOf(t);return PAL[(i<0?0:i)%PAL.length];}
var W=1000,L=150,R=60,PW=W-L-R;function X(t){return L+PW*t/H;}
function axis(y){var s='',step=Math.max(1,Math.ceil(H/24));
 for(var t=0;t<=H;t+=step){s+='<line x1="'+X(t)+'" x2="'+X(t)+'" y1="0" y2="'+y+'" stroke="#eee"/>'+
 '<text x="'+X(t)+'" y="'+(y+12)+'" font-size="10" text-anchor="middle">'+t+'</text>';}return s;}
function gantt(p,pi,moved){
 var N=D.nodes.length,rh=Math.max(6,Math.min(18,1400/Math.max(1,N))),top=4,h=top+N*rh+18;
 var per={};p.assigned.forEach(function(a,ai){a[3].forEach(function(n){(per[n]=per[n]||[]).push(ai);});});
 var s='<svg viewBox="0 0 '+W+' '+h+'" class="gantt" data-p="'+pi+'">'+axis(top+N*rh);
 var prev=-1;D.nodes.forEach(function(nd,i){var y=top+i*rh;
  if(nd[1]!==prev){if(i>0)s+='<line x1="0" x2="'+W+'" y1="'+y+'" y2="'+y+'" stroke="#999"/>';
   s+='<text x="'+(W-R+4)+'" y="'+(y+10)+'" font-size="10" font-weight="bold">'+esc(D.regions[nd[1]].id)+'</text>';prev=nd[1];}
  if(rh>=9||i%Math.ceil(9/rh)===0)s+='<text x="'+(L-4)+'" y="'+(y+rh*0.75)+'" font-size="'+Math.min(10,rh)+'" text-anchor="end">'+esc(nd[0])+'</text>';
  nd[3].forEach(function(u){s+='<rect x="'+X(u[0])+'" y="'+y+'" width="'+(X(u[1])-X(u[0]))+'" height="'+rh+'" fill="#ddd"/>';});
  var items=(per[i]||[]).slice().sort(function(a,b){return p.assigned[a][1]-p.assigned[b][1];}),ends=[],lane=[];
  items.forEach(function(ai){var a=p.assigned[ai],k=0;while(k<ends.length&&ends[k]>a[1])k++;ends[k]=a[2];lane.push(k);});
  var nl=Math.max(1,ends.length),lh=(rh-1)/nl;
  items.forEach(function(ai,q){var a=p.assigned[ai],j=D.jobs[a[0]];
   s+='<rect class="job'+(j[3]?' req':'')+(moved&&moved[a[0]]?' moved':'')+'" data-p="'+pi+'" data-a="'+ai+'" data-job="'+esc(j[0])+'" x="'+X(a[1])+'" y="'+(y+0.5+lane[q]*lh)+
   '" width="'+Math.max(0.5,X(Math.min(a[2],H))-X(a[1]))+'" height="'+Math.max(0.5,lh-0.3)+'" fill="'+tierColor(j[1])+'"/>';});
 });
 return s+'</svg>';}
function lines(series,colors,height,label,dashed){
 var mx=0,mn=0;series.forEach(function(v){if(v)v.forEach(function(x){mx=Math.max(mx,x);mn=Math.min(mn,x);});});
 if(mx===mn)mx=mn+1;var s='<svg viewBox="0 0 '+W+' '+(height+18)+'">'+axis(height);
 function Y(v){return height-2-(height-6)*(v-mn)/(mx-mn);}
 series.forEach(function(v,i){if(!v)return;var pts='';for(var t=0;t<H;t++){pts+=X(t)+','+Y(v[t])+' '+X(t+1)+','+Y(v[t])+' ';}
  s+='<polyline fill="none" stroke="'+colors[i]+'" stroke-width="1.5"'+(dashed&&dashed[i]?' stroke-dasharray="5,3"':'')+' points="'+pts+'"/>';});
 s+='<text x="4" y="12" font-size="11">'+esc(label)+'</text><text x="'+(L-4)+'" y="'+Y(mx)+'" font-size="10" text-anchor="end" dy="8">'+num(mx)+'</text>'+
 '<text x="'+(L-4)+'" y="'+Y(mn)+'" font-size="10" text-anchor="end">'+num(mn)+'</text>';return s+'</svg>';}
function table(head,rows){return '<table><tr>'+head.map(function(h){return '<th>'+esc(h)+'</th>';}).join('')+'</tr>'+
 rows.map(function(r){return '<tr>'+r.map(function(c){return '<td>'+esc(c)+'</td>';}).join('')+'</tr>';}).join('')+'</table>';}
function render(){
 var P=D.plans,n=P.length,out='',moved=null;
 if(D.moved){moved={};D.moved.forEach(function(m){moved[m[0]]=1;});}
 function cols(f){return '<div class="cols" style="--n:'+n+'">'+P.map(f).join('')+'</div>';}
 out+=cols(function(p){return '<div><h2>'+esc(p.label)+': '+esc(p.solver)+', status '+esc(p.status)+(p.interrupted?' (interrupted)':'')+'</h2>'+
  (p.fallback?'<div class="small">fallback: '+esc(p.fallback)+'</div>':'')+
  table(['metric','value'],p.metrics.map(function(m){return [m[0]+(m[2]?' ('+m[2]+')':''),num(m[1])];}))+
  '<div class="small">solve seconds: '+num(p.seconds)+'</div></div>';});
 out+='<h2>Bound and gap per stage</h2>'+cols(function(p){return '<div>'+table(['stage','value','bound','gap'],
  p.stages.map(function(s){return [s[0],num(s[1]),num(s[2]),pct(s[3])];}))+'</div>';});
 out+='<h2>Gantt chart by node and region</h2><div class="small">'+D.tiers.map(function(t){return '<span style="color:'+tierColor(t)+'">&#9632;</span> priority '+t;}).join(' &nbsp; ')+
  ' &nbsp; thick edge: required'+(moved?'; red edge: moved between the plans':'')+'; grey: unavailable. Hover a bar for details.</div>';
 out+=cols(function(p,pi){return '<div>'+gantt(p,pi,moved)+'</div>';});
 out+='<h2>Facility power by region (dashed: cap)</h2>';
 D.regions.forEach(function(r,g){var ser=P.map(function(p){return p.power[g];}),c=P.map(function(_,i){return i?'#555':RC[g%10];}),d=P.map(function(_,i){return i>0;});
  if(r.cap){ser.push(r.cap);c.push('#d62728');d.push(true);}
  var e=P.map(function(p){return num(p.by_region[g][1])+' kWh, '+num(p.by_region[g][2])+' kg';}).join(' | ');
  out+=lines(ser,c,70,r.id+' kW'+(n>1?' (grey dashed: '+P[1].label+')':'')+': '+e);});
 out+=lines(D.regions.map(function(r){return r.price;}),D.regions.map(function(_,g){return RC[g%10];}),90,'price per kWh by region');
 out+=lines(D.regions.map(function(r){return r.carbon;}),D.regions.map(function(_,g){return RC[g%10];}),90,'carbon g/kWh by region');
 out+='<div class="small">'+D.regions.map(function(r,g){return '<span style="color:'+RC[g%10]+'">&#9632;</span> '+esc(r.id);}).join(' &nbsp; ')+'</div>';
 out+='<h2>Unplaced jobs</h2>'+cols(function(p){return '<div>'+(p.unplaced.length?table(['job','priority','reason'],
  p.unplaced.map(function(u){var j=D.jobs[u[0]];return [j[0],j[1],u[1]];})):'<div class="small">none</div>')+'</div>';});
 if(D.moved){out+='<h2>Moved jobs ('+D.moved.length+')</h2>'+(D.moved.length?table(['job',P[0].label,P[1].label],
  D.moved.map(function(m){return [D.jobs[m[0]][0],m[1],m[2]];})):'<div class="small">none: the plans place every job alike</div>');}
 document.getElementById('app').innerHTML=out;
 var tip=document.getElementById('tip');
 document.addEventListener('mousemove',function(ev){var t=ev.target;
  if(!t.classList||!t.classList.contains('job')){tip.style.display='none';return;}
  var p=P[+t.dataset.p],a=p.assigned[+t.dataset.a],j=D.jobs[a[0]];
  tip.textContent='job '+j[0]+'\npriority '+j[1]+(j[3]?', required':'')+', value '+num(j[5])+'\ndemand '+(j[2]||'-')+' x '+j[4]+' replica(s)\nslots '+a[1]+' - '+a[2]+
   '\nnodes '+a[3].map(function(k){return D.nodes[k][0];}).join(', ')+'\nenergy '+num(a[4])+' kWh\ncost '+num(a[5])+'\ncarbon '+num(a[6])+' kg';
  tip.style.display='block';tip.style.left=(ev.clientX+12)+'px';tip.style.top=(ev.clientY+12)+'px';});
 document.body.setAttribute('data-rendered','1');
 document.body.setAttribute('data-render-ms',String(Math.round(performance.now())));
}
try{render();}catch(e){document.body.setAttribute('data-error',String(e&&e.stack||e));
 document.getElementById('app').innerHTML='<pre class="err">'+esc(e&&e.stack||e)+'</pre>';throw e;}
})();
"""
