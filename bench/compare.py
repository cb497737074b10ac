#!/usr/bin/env python3
"""Times external reference solvers on the instance files written by `pin-nash-bench write`,
checks that their answers agree with ours (from `pin-nash-bench solve`), and prints one table.

References (pinned in bench/requirements.txt, installed by bench/setup.sh):
  three-party, triangle  HiGHS (highspy) on the identical clearing LPs; only Highs.run() is timed
  triangle-indivisible   HiGHS (highspy) branch and cut on the identical welfare MILPs (Highs.run())
  zero-sum               scipy.optimize.linprog(method="highs") on the same LP formulation as ours
  bimatrix               quantecon lemke_howson (numba; JIT warmed up first, not timed; with
                         capping = our lh_max_pivots, the same restart-over-labels heuristic) and,
                         up to --gambit-max actions, pygambit lcp_solve (in a child process,
                         killed after --timeout seconds)
Agreement: welfare / game value within 1e-6 relative; the ε-regret of our strategies and of the
reference's is at most 1e-9 of the payoff range (equilibria may differ: each is checked on its
own). ratio = reference p50 / ours p50, so > 1 means ours is faster. The exit status is 1 when
one of our answers is off (our ε above tolerance, or welfare / value disagreeing); a reference
that fails, times out or answers outside the tolerance is listed as a note and counted as not
agreeing in the table, but does not fail the run.
"""

import argparse
import glob
import json
import math
import multiprocessing as mp
import os
import platform
import sys
import time

import numpy as np

EPS_TOL = 1e-9
VALUE_RTOL = 1e-6
# Pivots per starting label before QuantEcon moves to the next one, as our SolverLimits::lh_max_pivots.
LH_CAP = 20_000


def pct(xs, q):
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = min(len(s) - 1, max(0, math.ceil(q / 100.0 * len(s)) - 1))
    return s[k]


def regret(A, B, x, y):
    """Largest regret of either player over the larger payoff range (as our verifier)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ay = A @ y
    xb = x @ B
    ra = ay.max() - x @ ay
    rb = xb.max() - xb @ y
    scale = max(A.max() - A.min(), B.max() - B.min(), 1.0)
    return max(ra, rb, 0.0) / scale


# ---------------------------------------------------------------- HiGHS on the clearing LPs

def highs_lp(spec):
    import highspy

    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    n = spec["n"]
    lp.num_col_ = n
    lp.num_row_ = len(spec["rows"])
    lp.col_cost_ = np.asarray(spec["c"], dtype=float)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.array([inf if u is None else u for u in spec["upper"]], dtype=float)
    lo, hi, start, index, value = [], [], [0], [], []
    for row in spec["rows"]:
        rel, rhs = row["rel"], row["rhs"]
        lo.append(rhs if rel in ("eq", "ge") else -inf)
        hi.append(rhs if rel in ("eq", "le") else inf)
        for j, a in row["a"]:
            index.append(j)
            value.append(a)
        start.append(len(index))
    lp.row_lower_ = np.asarray(lo, dtype=float)
    lp.row_upper_ = np.asarray(hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n
    lp.a_matrix_.num_row_ = len(spec["rows"])
    lp.a_matrix_.start_ = np.asarray(start, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=float)
    return lp


def warm_up_highs():
    """Loads HiGHS and solves a one-variable LP with stdout silenced (HiGHS prints a banner)."""
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(highs_lp({"n": 1, "c": [1.0], "upper": [None], "rows": []}))
        h.run()
    finally:
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


def solve_highs(inst, reps):
    import highspy

    lps = [highs_lp(s) for s in inst["lps"]]
    times, objective = [], None
    for _ in range(reps):
        total, objective = 0.0, 0.0
        for lp in lps:
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("log_to_console", False)
            h.passModel(lp)
            t0 = time.perf_counter()
            h.run()
            total += time.perf_counter() - t0
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"HiGHS: {h.modelStatusToString(h.getModelStatus())}")
            objective += h.getInfo().objective_function_value
        times.append(total)
    return {"times_s": times, "welfare": -objective}


def solve_highs_milp(inst, reps):
    """HiGHS branch and cut on the identical welfare MILPs: integer columns kInteger, columns
    with a semicontinuous lower bound kSemiContinuous / kSemiInteger (0 or within [ℓ, u]).
    Gaps set to 1e-9 relative (as our pruning), so both search to optimality."""
    import highspy

    models = []
    for m in inst["milps"]:
        lp = highs_lp(m["lp"])
        lower = np.zeros(m["lp"]["n"])
        types = []
        for j, (integral, on) in enumerate(zip(m["integer"], m["on_lower"])):
            if on > 0:
                lower[j] = on
                types.append(highspy.HighsVarType.kSemiInteger if integral
                             else highspy.HighsVarType.kSemiContinuous)
            else:
                types.append(highspy.HighsVarType.kInteger if integral
                             else highspy.HighsVarType.kContinuous)
        lp.col_lower_ = lower
        lp.integrality_ = types
        models.append(lp)
    times, objective = [], None
    for _ in range(reps):
        total, objective = 0.0, 0.0
        for lp in models:
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("log_to_console", False)
            h.setOptionValue("mip_rel_gap", 1e-9)
            h.setOptionValue("mip_abs_gap", 1e-9)
            h.passModel(lp)
            t0 = time.perf_counter()
            h.run()
            total += time.perf_counter() - t0
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"HiGHS MILP: {h.modelStatusToString(h.getModelStatus())}")
            objective += h.getInfo().objective_function_value
        times.append(total)
    return {"times_s": times, "welfare": -objective}


# ---------------------------------------------------------------- zero-sum via scipy linprog

def warm_up_linprog():
    from scipy.optimize import linprog

    linprog([1.0], A_ub=[[-1.0]], b_ub=[-1.0], bounds=(0, None), method="highs")


def solve_linprog(inst, reps):
    from scipy.optimize import linprog

    A = np.asarray(inst["game"]["a"], dtype=float)
    lo, hi = A.min(), A.max()
    rng = max(hi - lo, 1.0)
    # The same scaling and LP as crates/nash/src/solve/zero_sum.rs: the column player's side,
    # max Σv s.t. S v ≤ 1, v ≥ 0; the row strategy is the constraints' duals.
    S = (A - lo) / rng + 1.0
    m, n = S.shape
    c = -np.ones(n)
    b_ub = np.ones(m)
    times, res = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        res = linprog(c, A_ub=S, b_ub=b_ub, bounds=(0, None), method="highs")
        times.append(time.perf_counter() - t0)
        if res.status != 0:
            raise RuntimeError(f"linprog: {res.message}")
    y = res.x / res.x.sum()
    x = -res.ineqlin.marginals
    x = np.clip(x, 0, None)
    x = x / x.sum()
    value = (1.0 / -res.fun - 1.0) * rng + lo
    return {"times_s": times, "value": value, "row": x.tolist(), "col": y.tolist()}


# ---------------------------------------------------------------- bimatrix

def nfg(A, B):
    from quantecon.game_theory import NormalFormGame, Player

    return NormalFormGame((Player(A), Player(B.T)))


def warm_up_quantecon():
    from quantecon.game_theory import lemke_howson

    A = np.array([[3.0, 0.0], [0.0, 2.0]])
    lemke_howson(nfg(A, A), init_pivot=0)


def solve_quantecon(inst, reps):
    from quantecon.game_theory import lemke_howson

    A = np.asarray(inst["game"]["a"], dtype=float)
    B = np.asarray(inst["game"]["b"], dtype=float)
    g = nfg(A, B)
    times, ne, res = [], None, None
    for _ in range(reps):
        t0 = time.perf_counter()
        # The same heuristic as ours: restart from the next label after LH_CAP pivots.
        ne, res = lemke_howson(g, init_pivot=0, max_iter=10**6, capping=LH_CAP, full_output=True)
        times.append(time.perf_counter() - t0)
        if not res.converged:
            raise RuntimeError(f"quantecon lemke_howson did not converge in {res.num_iter} pivots")
    return {"times_s": times, "row": ne[0].tolist(), "col": ne[1].tolist(), "pivots": int(res.num_iter)}


def _gambit_child(a, b, reps, queue):
    try:
        import pygambit as gbt

        A = np.asarray(a, dtype=float)
        B = np.asarray(b, dtype=float)
        g = gbt.Game.from_arrays(A, B)
        times, eq = [], None
        for _ in range(reps):
            t0 = time.perf_counter()
            res = gbt.nash.lcp_solve(g, rational=False, stop_after=1)
            times.append(time.perf_counter() - t0)
            eq = res.equilibria[0]
        p0, p1 = list(g.players)
        x = [float(eq[s]) for s in p0.strategies]
        y = [float(eq[s]) for s in p1.strategies]
        queue.put({"times_s": times, "row": x, "col": y})
    except Exception as e:  # reported in the table, not fatal
        queue.put({"error": f"{type(e).__name__}: {e}"})


def solve_gambit(inst, reps, timeout):
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_gambit_child, args=(inst["game"]["a"], inst["game"]["b"], reps, q))
    p.start()
    try:
        out = q.get(timeout=timeout)
    except Exception:
        out = {"error": f"timeout after {timeout} s"}
    p.join(1)
    if p.is_alive():
        p.kill()
        p.join()
    if "error" in out:
        raise RuntimeError(out["error"])
    return out


# ---------------------------------------------------------------- driver

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", required=True, help="directory of instance files")
    ap.add_argument("--ours", required=True, help="JSON lines from `pin-nash-bench solve`")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per Gambit instance")
    ap.add_argument("--gambit-max", type=int, default=100, help="largest bimatrix size for Gambit")
    ap.add_argument("--json", help="also write all per-instance results here")
    args = ap.parse_args()

    ours = {}
    with open(args.ours) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                ours[r["file"]] = r

    files = sorted(glob.glob(os.path.join(args.instances, "*.json")))
    classes = set()
    for p in files:
        with open(p) as f:
            classes.add(json.load(f).get("class"))
    if classes & {"three-party", "triangle", "triangle-indivisible"}:
        warm_up_highs()
    if "zero-sum" in classes:
        warm_up_linprog()
    if "bimatrix" in classes:
        warm_up_quantecon()

    groups = {}  # (class, size, reference) -> stats
    records = []
    failures = []  # our answer wrong or disagreeing: exit status 1
    notes = []  # a reference failed, timed out or answered outside the tolerance

    def group(cls, size, ref):
        return groups.setdefault(
            (cls, size, ref),
            {"ours": [], "theirs": [], "n": 0, "agree": 0, "eps_ours": 0.0, "eps_theirs": 0.0,
             "dvalue": 0.0, "errors": []},
        )

    for path in files:
        name = os.path.basename(path)
        with open(path) as f:
            inst = json.load(f)
        cls, size = inst["class"], inst["size"]
        mine = ours.get(name)
        if mine is None:
            failures.append(f"{name}: no result from our solver")
            continue
        refs = []
        if "lps" in inst:
            refs = [("HiGHS", lambda: solve_highs(inst, args.reps))]
        elif "milps" in inst:
            refs = [("HiGHS-MILP", lambda: solve_highs_milp(inst, args.reps))]
        elif cls == "zero-sum":
            refs = [("scipy-highs", lambda: solve_linprog(inst, args.reps))]
        elif cls == "bimatrix":
            refs = [("quantecon-LH", lambda: solve_quantecon(inst, args.reps))]
            if size <= args.gambit_max:
                refs.append(("gambit-lcp", lambda: solve_gambit(inst, args.reps, args.timeout)))
        if not refs:
            g = group(cls, size, "-")
            g["ours"] += mine["times_s"]
            g["n"] += 1
            g["agree"] += 1
            continue
        for ref, run in refs:
            g = group(cls, size, ref)
            g["ours"] += mine["times_s"]
            g["n"] += 1
            if "row" in mine:
                A = np.asarray(inst["game"]["a"], dtype=float)
                B = np.asarray(inst["game"]["b"], dtype=float)
                e0 = regret(A, B, mine["row"], mine["col"])
                g["eps_ours"] = max(g["eps_ours"], e0)
            try:
                theirs = run()
            except Exception as e:
                g["errors"].append(f"{name}: {e}")
                notes.append(f"{name} / {ref}: {e}")
                continue
            g["theirs"] += theirs["times_s"]
            if "lp_times_s" in mine:
                # The same LPs through our dense simplex: its own row, same reference times.
                sg = group(cls + ":simplex", size, ref)
                sg["ours"] += mine["lp_times_s"]
                sg["theirs"] += theirs["times_s"]
                sg["n"] += 1
            why = []  # failures that put our answer in doubt
            ref_why = []  # the reference's own answer is not within tolerance
            if "welfare" in mine:
                w0, w1 = mine["welfare"], theirs["welfare"]
                d = abs(w0 - w1) / max(1.0, abs(w0), abs(w1))
                g["dvalue"] = max(g["dvalue"], d)
                if d > VALUE_RTOL:
                    why.append(f"welfare {w0} vs {w1} (relative {d:.1e})")
            if "row" in mine:
                e1 = regret(A, B, theirs["row"], theirs["col"])
                g["eps_theirs"] = max(g["eps_theirs"], e1)
                if e0 > EPS_TOL:
                    why.append(f"our ε {e0:.1e} > {EPS_TOL:.0e}")
                if e1 > EPS_TOL:
                    ref_why.append(f"reference ε {e1:.1e} > {EPS_TOL:.0e} (ours {e0:.1e})")
                if "value" in mine:
                    rng = max(A.max() - A.min(), 1.0)
                    d = abs(mine["value"] - theirs["value"]) / rng
                    g["dvalue"] = max(g["dvalue"], d)
                    if d > VALUE_RTOL:
                        why.append(f"value {mine['value']} vs {theirs['value']} ({d:.1e} of the range)")
            if mine.get("node_limit_hit"):
                why.append("our branch and bound stopped at its node limit")
            g["agree"] += int(not why and not ref_why)
            if "lp_times_s" in mine:
                sg["agree"] += int(not why and not ref_why)
                sg["dvalue"] = g["dvalue"]
            if why:
                failures.append(f"{name} / {ref}: " + "; ".join(why + ref_why))
            elif ref_why:
                notes.append(f"{name} / {ref}: " + "; ".join(ref_why))
            records.append({"file": name, "reference": ref, "ours": mine, "theirs": theirs})

    if args.json:
        with open(args.json, "w") as f:
            json.dump(records, f)

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"# {platform.machine()} {os.cpu_count()} cpus, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{args.reps} reps per instance; times per instance (LP classes: sum over resources)")
    hdr = f"{'class':<22} {'size':>5} {'inst':>4} {'ours p50':>10} {'ours p99':>10} {'reference':<13} {'ref p50':>10} {'ratio':>8} {'agree':>6} {'ε ours':>8} {'ε ref':>8} {'Δvalue':>8}"
    print(hdr)
    print("-" * len(hdr))
    order = ["simple-swap", "constrained-swap", "three-party", "three-party:simplex", "triangle",
             "triangle:simplex", "triangle-indivisible", "zero-sum", "bimatrix", "three-player", "coalition"]

    def key(k):
        cls, size, ref = k
        base = cls.split(":")[0]
        return (order.index(base) if base in order else 99, size, cls, ref)

    def ms(t):
        return "-" if math.isnan(t) else f"{t * 1e3:.3f}ms" if t < 1 else f"{t:.2f}s"

    for k in sorted(groups, key=key):
        cls, size, ref = k
        g = groups[k]
        o50, o99 = pct(g["ours"], 50), pct(g["ours"], 99)
        t50 = pct(g["theirs"], 50)
        ratio = "-" if math.isnan(t50) else f"{t50 / o50:.2f}x"
        game = cls in ("zero-sum", "bimatrix")
        eps_o = f"{g['eps_ours']:.0e}" if game else "-"
        eps_t = f"{g['eps_theirs']:.0e}" if game and g["theirs"] else "-"
        dval = f"{g['dvalue']:.0e}" if ref != "-" and cls != "bimatrix" and g["theirs"] else "-"
        agree = f"{g['agree']}/{g['n']}"
        print(f"{cls:<22} {size:>5} {g['n']:>4} {ms(o50):>10} {ms(o99):>10} {ref:<13} {ms(t50):>10} {ratio:>8} "
              f"{agree:>6} {eps_o:>8} {eps_t:>8} {dval:>8}")
    print("ratio = reference p50 / ours p50 (> 1: ours faster). agree: welfare/value within 1e-6 relative and "
          "ε ≤ 1e-9 of the payoff range for both answers.\n"
          "Markets: ours = our whole clearing (min-cost flow, rounding, prices); ':simplex' rows time our dense "
          "simplex on the same LPs. triangle-indivisible: ours = our branch and bound on the welfare MILPs.")
    if notes:
        print("\nreference notes (not counted as agreeing; do not fail the run):")
        for n in notes:
            print("  " + n)
    if failures:
        print("\nproblems (our answer wrong or disagreeing):")
        for f in failures:
            print("  " + f)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
