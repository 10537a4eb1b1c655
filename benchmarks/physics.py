r"""Physics benchmark (issue 4): designloop's PINN vs DeepXDE on the forward Fisher–KPP case,
and the hybrid neural ODE vs a plain torchdiffeq fit on the protein-expression case.

Run ``python benchmarks/physics.py`` (full) or ``--quick`` (< 3 min). Prints the tables,
writes ``benchmarks/results/physics.json`` and PNG plots next to it, and ends with

    physics: pinn_time_vs_deepxde=<ratio> pinn_rel_l2=<value> ode_rel_err=<value> goal=met|not-met

computed from this run's numbers:

* ``pinn_time_vs_deepxde`` — designloop's time to reach the error threshold divided by
  DeepXDE's; the threshold is 1e-2, or DeepXDE's best error when it never reaches 1e-2 in
  the budget (then both are timed to *that* error). ``inf`` when designloop never reaches
  it; ``nan`` when DeepXDE is not installed.
* ``pinn_rel_l2`` — designloop's relative L2 error against the converged reference at the
  end of the equal wall-clock budget.
* ``ode_rel_err`` — the hybrid neural ODE's worst relative error on the unseen doses over
  twice the training horizon.
* ``goal=met`` iff time ratio <= 0.5, designloop's final error < DeepXDE's, and
  ``ode_rel_err`` <= 0.05.

Each PINN runs in its own subprocess (same network 3 x 32 tanh, same 2000 residual points,
Adam at 1e-3 then L-BFGS, equal wall-clock budget; monitoring time excluded on both sides),
so global state set by one library cannot touch the other. DeepXDE uses its standard soft
formulation (Neumann and initial-condition loss terms, 100 points each); designloop its
default hard constraints. Timings on a shared, loaded CPU are noisy: compare within a run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"

QUICK = {"pinn_budget_s": 25.0, "pinn_adam": 200, "ode_budget_s": 25.0, "ode_epochs": 50,
         "ode_lr": 5e-2,
         "seeds": 0}
FULL = {"pinn_budget_s": 120.0, "pinn_adam": 200, "ode_budget_s": 150.0, "ode_epochs": 250,
        "ode_lr": 2e-2,
        "seeds": 5}
#: Most L-BFGS iterations of the float64 polish of the seed-0 float32 network (full mode).
POLISH_LBFGS = 3000


# ----------------------------------------------------------------------------- PINN workers
def _fisher_reference() -> tuple[Any, Any, Any]:
    import models.pinn.cases.fisher_kpp as fk

    case = fk.default_case()
    ref = fk.reference(case)
    points, values = fk.reference_points(ref, stride_x=8)
    return case, ref, (points, values)


def _time_to(history: list[dict[str, Any]], threshold: float) -> float | None:
    for h in history:
        if h["error"] <= threshold:
            return float(h["seconds"])
    return None


def worker_designloop(budget: float, adam: int, seed: int, dtype: str = "float32",
                      lbfgs: int = 100_000, polish: int = 0) -> dict[str, Any]:
    """designloop's PINN (hard constraints, Adam then L-BFGS) within ``budget`` seconds.

    ``polish > 0``: afterwards, polish the trained network in float64 with up to ``polish``
    L-BFGS iterations (:func:`~models.pinn.training.polish_pinn`); the result gains
    ``"polish"``: the error before (this run's ``final_error``) and after, the polish's
    seconds and L-BFGS iterations, its error history, and ``"float32_continued"``: the same
    L-BFGS continuation left in float32, as a control (run last, on the same network).
    """
    from dataclasses import replace

    import torch

    import models.pinn.cases.fisher_kpp as fk
    from models.pinn.training import PINNConfig, polish_pinn, train_pinn

    torch.set_num_threads(1)
    case, _, (points, values) = _fisher_reference()
    # One-off autograd warm-up of a fresh process (~2 s here), kept out of the timing as
    # DeepXDE's own start-up is.
    warm, warm_net = fk.forward_problem(case, width=4, depth=1)
    train_pinn(warm, warm_net, PINNConfig(adam_epochs=2, lbfgs_iterations=2, n_collocation=16))
    problem, net = fk.forward_problem(case, width=32, depth=3, seed=seed)
    config = PINNConfig(adam_epochs=adam, lbfgs_iterations=lbfgs, n_collocation=2000,
                        log_every=50, max_seconds=budget, seed=seed, dtype=dtype)
    result = train_pinn(problem, net, config, monitor=lambda n: fk.relative_l2(n, points, values))
    history = [{"seconds": h["seconds"], "error": h["monitor"], "epoch": h["epoch"]}
               for h in result.history]
    grid_x = torch.linspace(0, case.length, 101, dtype=torch.float64)
    snapshot = {}
    for t in (0.0, 0.5, 1.0):
        pts = torch.stack([grid_x, torch.full_like(grid_x, t)], dim=1)
        with torch.no_grad():
            snapshot[str(t)] = net(pts.to(config.torch_dtype)).reshape(-1).double().tolist()
    out: dict[str, Any] = {"history": history, "final_error": fk.relative_l2(net, points, values),
                           "seconds": result.seconds, "epochs": result.epochs,
                           "snapshot": snapshot}
    if polish:
        polished = polish_pinn(problem, net, config, lbfgs_iterations=polish,
                               monitor=lambda n: fk.relative_l2(n, points, values))
        out["polish"] = {
            "from_dtype": dtype, "error_before": out["final_error"],
            "error": fk.relative_l2(polished.net, points, values),
            "seconds": polished.seconds, "lbfgs_iterations": polished.epochs,
            "max_lbfgs_iterations": polish,
            "history": [{"seconds": h["seconds"], "error": h["monitor"], "epoch": h["epoch"]}
                        for h in polished.history]}
        # Control: the same L-BFGS continuation kept in float32 (what float64 itself adds).
        kept = train_pinn(problem, net, replace(config, adam_epochs=0, lbfgs_iterations=polish,
                                                max_seconds=None))
        out["polish"]["float32_continued"] = {
            "error": fk.relative_l2(kept.net, points, values), "seconds": kept.seconds,
            "lbfgs_iterations": kept.epochs}
    return out


def worker_deepxde(budget: float, adam: int, seed: int) -> dict[str, Any]:
    """DeepXDE (PyTorch backend), same network and residual points, Adam then L-BFGS."""
    os.environ["DDE_BACKEND"] = "pytorch"
    import deepxde as dde
    import numpy as np
    import torch

    torch.set_num_threads(1)
    case, _, (points, values) = _fisher_reference()
    dde.config.set_random_seed(seed)
    geom = dde.geometry.GeometryXTime(dde.geometry.Interval(0.0, case.length),
                                      dde.geometry.TimeDomain(0.0, case.horizon))

    def pde(x: Any, y: Any) -> Any:
        y_t = dde.grad.jacobian(y, x, i=0, j=1)
        y_xx = dde.grad.hessian(y, x, i=0, j=0)
        return y_t - case.diffusivity * y_xx - case.rate * y * (1 - y)

    def bloom(x: np.ndarray) -> np.ndarray:
        return case.amplitude * np.exp(-(((x[:, 0:1] - case.centre) / case.width) ** 2))

    bc = dde.icbc.NeumannBC(geom, lambda x: 0.0 * x[:, 0:1], lambda _, on_b: on_b)
    ic = dde.icbc.IC(geom, bloom, lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(geom, pde, [bc, ic], num_domain=2000, num_boundary=100,
                            num_initial=100)
    net = dde.nn.FNN([2] + [32] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)
    xs = points.numpy().astype(np.float32)
    ref = values.numpy()[:, 0]
    state: dict[str, Any] = {"start": 0.0, "paused": 0.0, "history": [], "stop": False,
                             "logged": -50}

    class Monitor(dde.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self) -> None:
            epoch = self.model.train_state.step
            seconds = time.perf_counter() - state["start"] - state["paused"]
            if seconds >= budget:        # checked every step: the budget is the same as ours
                state["stop"] = True
                self.model.stop_training = True
            elif epoch - state["logged"] < 50:
                return
            state["logged"] = epoch
            began = time.perf_counter()
            pred = self.model.predict(xs)[:, 0]
            error = float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))
            state["paused"] += time.perf_counter() - began
            seconds = time.perf_counter() - state["start"] - state["paused"]
            state["history"].append({"seconds": seconds, "error": error, "epoch": epoch})

    model.compile("adam", lr=1e-3)
    state["start"] = time.perf_counter()
    model.train(iterations=adam, callbacks=[Monitor()], display_every=10**9, verbose=0)
    if not state["stop"]:
        dde.optimizers.set_LBFGS_options(maxiter=100_000)
        # DeepXDE runs L-BFGS in chunks of min(1000, maxiter) iterations between callbacks;
        # chunks of 50 let the budget stop it on time, as ours does.
        dde.optimizers.config.LBFGS_options["iter_per_step"] = 50
        dde.optimizers.config.LBFGS_options["fun_per_step"] = 63
        model.compile("L-BFGS")
        model.train(callbacks=[Monitor()], display_every=10**9, verbose=0)
    pred = model.predict(xs)[:, 0]
    final = float(np.linalg.norm(pred - ref) / np.linalg.norm(ref))
    return {"history": state["history"], "final_error": final,
            "seconds": time.perf_counter() - state["start"] - state["paused"]}


def _run_worker(name: str, **kwargs: Any) -> dict[str, Any] | None:
    """Run a worker in a fresh interpreter; None when it fails (e.g. DeepXDE missing)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--out",
               str(out), "--kwargs", json.dumps(kwargs)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        if proc.returncode != 0 or not out.exists():
            print(f"[{name}] failed (rc={proc.returncode}): {proc.stderr[-800:]}")
            return None
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def deepxde_available() -> bool:
    """Whether the optional benchmark peer is installed (checked without importing it)."""
    import importlib.util

    return importlib.util.find_spec("deepxde") is not None


# ----------------------------------------------------------------------------- PINN part
def pinn_comparison(settings: dict[str, Any]) -> dict[str, Any]:
    budget, adam = settings["pinn_budget_s"], settings["pinn_adam"]
    ours = _run_worker("designloop", budget=budget, adam=adam, seed=0)
    theirs = _run_worker("deepxde", budget=budget, adam=adam, seed=0) \
        if deepxde_available() else None
    assert ours is not None, "designloop's PINN worker failed"
    out: dict[str, Any] = {"budget_s": budget, "designloop": ours, "deepxde": theirs}
    if theirs is None:
        out.update(threshold=1e-2, ratio=math.nan)
        return out
    threshold = max(1e-2, min(h["error"] for h in theirs["history"]) if theirs["history"]
                    else theirs["final_error"])
    t_ours, t_theirs = _time_to(ours["history"], threshold), _time_to(theirs["history"],
                                                                       threshold)
    ratio = math.inf if t_ours is None else (t_ours / t_theirs if t_theirs else math.nan)
    out.update(threshold=threshold, t_designloop=t_ours, t_deepxde=t_theirs, ratio=ratio,
               t_designloop_1e2=_time_to(ours["history"], 1e-2),
               t_deepxde_1e2=_time_to(theirs["history"], 1e-2))
    return out


def pinn_extras(settings: dict[str, Any]) -> dict[str, Any]:
    """Full mode only: 5-seed spread (float32), float64 + L-BFGS polish of the seed-0
    float32 network, inverse 50/20 sensors, 2D channel, Deep Ritz bar."""
    extras: dict[str, Any] = {}
    # Seed 0's float32 network is then polished in float64 (L-BFGS only) in the same worker.
    runs = [_run_worker("designloop", budget=10**6, adam=1000, seed=s, lbfgs=1000,
                        polish=POLISH_LBFGS if s == 0 else 0)
            for s in range(settings["seeds"])]
    errors = [r["final_error"] for r in runs if r]
    extras["seeds_float32"] = {"errors": errors, "seconds": [r["seconds"] for r in runs if r]}
    extras["float64_polish"] = runs[0]["polish"] if runs and runs[0] else None
    extras["inverse"] = {n: _run_worker("inverse", sensors=n) for n in (50, 20)}
    extras["two_d"] = _run_worker("two_d")
    extras["ritz_bar"] = _run_worker("ritz")
    return extras


def worker_inverse(sensors: int) -> dict[str, Any]:
    import torch

    from models.pinn.cases.registry import train_case

    torch.set_num_threads(1)
    m = train_case("fisher_kpp_inverse", {"n_sensors": sensors, "learning_rate": 3e-3})
    return {k: m.metrics[k] for k in ("D", "r", "D_rel_error", "r_rel_error", "seconds")}


def worker_two_d() -> dict[str, Any]:
    import torch

    import models.pinn.cases.fisher_kpp as fk
    from models.pinn.training import PINNConfig, train_pinn

    torch.set_num_threads(1)
    case = fk.default_case(horizon=0.5)
    problem, net = fk.forward_problem(case, width_y=0.5, harmonics=6)
    points, values = fk.reference_2d_points(case, 0.5)
    result = train_pinn(problem, net, PINNConfig(adam_epochs=500, lbfgs_iterations=500))
    return {"rel_l2": fk.relative_l2(net, points, values), "seconds": result.seconds}


def worker_ritz() -> dict[str, Any]:
    import torch

    from models.pinn.cases.registry import train_case

    torch.set_num_threads(1)
    m = train_case("neo_hookean_bar", {})
    return {"rel_l2": m.metrics["rel_l2"], "seconds": m.metrics["seconds"]}


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {"designloop": worker_designloop, "deepxde": worker_deepxde,
           "inverse": worker_inverse, "two_d": worker_two_d, "ritz": worker_ritz}


# ----------------------------------------------------------------------------- ODE part
def ode_comparison(settings: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import torch

    from models.neural_ode.protein import (
        ExpressionCase,
        HybridExpressionField,
        black_box_field,
        build_batch,
        predict,
        prediction_error,
    )
    from models.neural_ode.solve import SolverOptions
    from models.neural_ode.training import NeuralODEConfig, train_neural_ode
    from models.physics.protein_expression import ExpressionParameters, simulate

    torch.set_num_threads(1)
    case = ExpressionCase()
    batch = build_batch(case)
    budget = settings["ode_budget_s"]
    hybrid = HybridExpressionField(seed=0)
    ours = train_neural_ode(hybrid, batch, NeuralODEConfig(
        epochs_per_stage=settings["ode_epochs"], max_seconds=budget,
        learning_rate=settings["ode_lr"],
        solver=SolverOptions(rtol=1e-5, atol=1e-6)))
    plain = black_box_field(batch, seed=0)
    # "plain torchdiffeq, default settings": dopri5 at rtol 1e-7 / atol 1e-9 with float64
    # time, Adam at 1e-3, no curriculum, same wall-clock budget.
    theirs = train_neural_ode(plain, batch, NeuralODEConfig(
        epochs_per_stage=10**6, horizons=(1.0,), learning_rate=1e-3, max_seconds=budget,
        solver=SolverOptions(rtol=1e-7, atol=1e-9, time_dtype="float64", fallback=None)))
    out: dict[str, Any] = {"budget_s": budget}
    times = np.linspace(0.0, 2 * case.horizon, 97)
    params = ExpressionParameters()
    truth = {str(d): np.vstack([params.initial_state(), simulate(d, times[1:], params)]).tolist()
             for d in case.test_doses}
    for name, field, result in (("hybrid", hybrid, ours), ("plain_torchdiffeq", plain, theirs)):
        out[name] = {
            "unseen_rel_err_1x": prediction_error(field, case.test_doses, case.horizon),
            "unseen_rel_err_2x": prediction_error(field, case.test_doses, 2 * case.horizon),
            "train_rel_err_2x": prediction_error(field, case.train_doses, 2 * case.horizon),
            "seconds": result.seconds, "epochs": result.epochs,
            "solver_stats": field.stats.as_dict(),
            "trajectories": predict(field, case.test_doses, times,
                                    params.initial_state()).tolist()}
    out["hybrid"]["rates"] = hybrid.rates()
    out["times"], out["truth"], out["test_doses"] = times.tolist(), truth, list(case.test_doses)
    return out


# ----------------------------------------------------------------------------- report
def _fmt(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


def print_tables(result: dict[str, Any]) -> None:
    pinn, ode = result["pinn"], result["ode"]
    rows = [("PINN (Fisher-KPP fwd)", "designloop", pinn["designloop"]["final_error"],
             pinn.get("t_designloop_1e2"), pinn["designloop"]["seconds"])]
    if pinn["deepxde"]:
        rows.append(("PINN (Fisher-KPP fwd)", "DeepXDE", pinn["deepxde"]["final_error"],
                     pinn.get("t_deepxde_1e2"), pinn["deepxde"]["seconds"]))
    print(f"\nPINN, equal budget {pinn['budget_s']:.0f} s (rel. L2 vs reference)")
    print(f"{'case':24s} {'method':12s} {'final rel L2':>13s} {'t(1e-2) s':>10s} {'time s':>8s}")
    for r in rows:
        print(f"{r[0]:24s} {r[1]:12s} {_fmt(r[2]):>13s} {_fmt(r[3]):>10s} {_fmt(r[4]):>8s}")
    print(f"threshold {pinn['threshold']:.3g}: time ratio designloop/DeepXDE = "
          f"{_fmt(pinn['ratio'])}")
    print(f"\nNeural ODE, equal budget {ode['budget_s']:.0f} s (rel. error vs ground truth)")
    print(f"{'method':20s} {'unseen 1x':>10s} {'unseen 2x':>10s} {'train 2x':>10s} "
          f"{'epochs':>7s} {'NFE':>8s} {'rej':>5s}")
    for name in ("hybrid", "plain_torchdiffeq"):
        o = ode[name]
        print(f"{name:20s} {_fmt(o['unseen_rel_err_1x']):>10s} {_fmt(o['unseen_rel_err_2x']):>10s}"
              f" {_fmt(o['train_rel_err_2x']):>10s} {o['epochs']:>7d} "
              f"{o['solver_stats']['nfe']:>8d} {o['solver_stats']['rejected']:>5d}")
    if result.get("extras"):
        print("\nExtras:", json.dumps(result["extras"], default=str)[:2000])


def plot(result: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    written = []
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for name in ("designloop", "deepxde"):
        run = result["pinn"].get(name)
        if run:
            ax[0].semilogy([h["seconds"] for h in run["history"]],
                           [h["error"] for h in run["history"]], label=name)
    ax[0].axhline(1e-2, ls=":", c="grey")
    ax[0].set(xlabel="training time (s)", ylabel="rel. L2 vs reference",
              title="Fisher-KPP forward")
    ax[0].legend()
    import models.pinn.cases.fisher_kpp as fk

    ref = fk.reference(fk.default_case())
    x = np.linspace(0, 1, 101)
    for t, snap in result["pinn"]["designloop"]["snapshot"].items():
        k = round(float(t) * (ref.t.size - 1))
        ax[1].plot(ref.x, ref.u[k], c="k", lw=1)
        ax[1].plot(x, snap, "--", label=f"PINN t={t} d")
    ax[1].set(xlabel="x (km)", ylabel="u", title="designloop PINN (dashed) vs reference")
    ax[1].legend()
    fig.tight_layout()
    path = RESULTS / "physics_pinn.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(str(path))
    ode = result["ode"]
    fig, axes = plt.subplots(1, len(ode["test_doses"]), figsize=(12, 3.5))
    times = np.array(ode["times"])
    for i, dose in enumerate(ode["test_doses"]):
        truth = np.array(ode["truth"][str(dose)])
        axes[i].plot(times, truth[:, 1], "k", label="truth")
        for name, style in (("hybrid", "--"), ("plain_torchdiffeq", ":")):
            traj = np.array(ode[name]["trajectories"])[:, i, 1]
            axes[i].plot(times, traj, style, label=name)
        axes[i].axvline(12.0, c="grey", lw=0.5)
        axes[i].set(title=f"unseen dose {dose} uM", xlabel="t (h)", ylabel="protein (nM)")
    axes[0].legend()
    fig.tight_layout()
    path = RESULTS / "physics_ode.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(str(path))
    return written


def summary(result: dict[str, Any]) -> str:
    pinn, ode = result["pinn"], result["ode"]
    ratio = pinn["ratio"]
    ours = pinn["designloop"]["final_error"]
    theirs = pinn["deepxde"]["final_error"] if pinn["deepxde"] else math.nan
    ode_err = ode["hybrid"]["unseen_rel_err_2x"]
    met = (ratio <= 0.5) and (ours < theirs) and (ode_err <= 0.05)
    result["goal"] = {"time_ratio_le_0.5": bool(ratio <= 0.5),
                      "lower_final_error": bool(ours < theirs),
                      "ode_rel_err_le_0.05": bool(ode_err <= 0.05), "met": bool(met)}
    return (f"physics: pinn_time_vs_deepxde={ratio:.3g} pinn_rel_l2={ours:.3g} "
            f"ode_rel_err={ode_err:.3g} goal={'met' if met else 'not-met'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small version (< 3 min)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        output = WORKERS[args.worker](**json.loads(args.kwargs))
        Path(args.out).write_text(json.dumps(output))
        return 0
    import torch

    torch.set_num_threads(1)
    settings = QUICK if args.quick else FULL
    start = time.perf_counter()
    result: dict[str, Any] = {"mode": "quick" if args.quick else "full", "settings": settings,
                              "deepxde_installed": deepxde_available()}
    result["pinn"] = pinn_comparison(settings)
    result["ode"] = ode_comparison(settings)
    if not args.quick:
        result["extras"] = pinn_extras(settings)
    line = summary(result)
    result["wall_seconds"] = time.perf_counter() - start
    result["summary"] = line
    RESULTS.mkdir(parents=True, exist_ok=True)
    result["plots"] = plot(result)
    text = json.dumps(result, indent=1, default=str)
    (RESULTS / "physics.json").write_text(text)
    (RESULTS / f"physics_{result['mode']}.json").write_text(text)   # both modes kept
    print_tables(result)
    print(f"\nwall time {result['wall_seconds']:.0f} s; JSON {RESULTS / 'physics.json'}")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
