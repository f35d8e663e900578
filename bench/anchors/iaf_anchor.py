"""PyTorch IAF + reverse-KL anchor.  Run with /usr/bin/python3 (Debian python3-torch 1.13, OpenBLAS).

Architecture (as specified for the TS toolkit):
  * base q0 = N(0, I_D)   (variant 'stdbase', the default)
  * K = 6 affine IAF layers. Layer k: [m, s] = MADE_k(z) (2 hidden layers of H ReLU units,
    H = 64 for D=2, 128 for D=10, 256 for D=50; natural variable order inside each MADE;
    hidden degrees assigned cyclically 1..D-1), sig = sigmoid(s),
    z' = sig * z + (1 - sig) * m,  log|det| = sum log sig   (Kingma et al. 2016, Alg. 1).
    The bias of the s-output is initialised to +2 (Kingma et al.: "s sufficiently positive, like +1 or +2").
  * the variable order is reversed between consecutive layers (5 flips for K=6).
  * variant 'diagbase' (optional, --variant diagbase): base z0 = mu0 + exp(logsig0) * eps with learnable
    mu0, logsig0 (the non-amortised version of the z0 = mu0 + sigma0*eps that precedes the IAF chain in
    Kingma et al. 2016).  Needed because with a N(0,I) base every sigmoid-gated layer is volume
    contracting (log det < 0), so H[q] <= H[N(0,I)] and targets with larger entropy can't be matched.
Training: reverse KL / negative ELBO, reparameterisation gradient, Adam(lr=1e-3), batch 256, float32.
Convergence: per-step batch-ELBO m_t; MA_t = mean(m_{t-499..t}); checked every 100 steps from t=1000:
    converged at the first t with MA_t - MA_{t-500} < 0.01; hard cap 5000 steps.

Measurements per target (median over --repeats independent seeds):
  training steps/s on fresh models (30 warm-up steps, then min(N, 2 s) timed steps) for thread configs
    1thr = torch 1 + OpenBLAS 1;  2thr = torch 2 + OpenBLAS 2 (what torch.set_num_threads(2) gives with
    Debian's pthread OpenBLAS, which defaults to nproc threads and ignores torch.set_num_threads);
    t1b2 = torch 1 + OpenBLAS 2;  t2b1 = torch 2 + OpenBLAS 1;  best2core = max of the three 2-core configs;
    (--f64: also float64 for 1thr/2thr/t1b2;  --bench-only: skip everything below)
  wall time & steps to convergence (with --conv-threads threads for both pools, default 1);
  final ELBO (10k samples), IS log Z (10k) vs truth, Kish ESS/N (10k);
  sampling throughput (x and log q, batches of 10k, no_grad; 2 warm-up + median of 7) for 1thr/2thr/t1b2.
Results: results/iaf_<variant>.json and a printed table.
"""
import argparse
import ctypes
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import targets as T  # noqa: E402

HIDDEN = {2: 64, 10: 128, 50: 256}
K_LAYERS = 6
BATCH = 256
LR = 1e-3
CAP = 5000
WINDOW = 500
TOL = 0.01
CHECK_EVERY = 100
N_EVAL = 10_000

try:
    _OB = ctypes.CDLL("libopenblas.so.0")
except OSError:
    _OB = None


# Thread configurations: (torch intra-op OpenMP threads, OpenBLAS pthreads).  "2thr" = both pools at 2,
# which is what torch.set_num_threads(2) gives with Debian's OpenBLAS default (nproc) -> oversubscription.
THREAD_CFGS = {"1thr": (1, 1), "2thr": (2, 2), "t1b2": (1, 2), "t2b1": (2, 1)}


def set_threads(n, blas=None):
    torch.set_num_threads(n)
    if _OB is not None:
        _OB.openblas_set_num_threads(n if blas is None else blas)


# ------------------------------------------------------------------------------------------ model
class MaskedLinear(nn.Linear):
    def __init__(self, fin, fout, mask):
        super().__init__(fin, fout)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    """x (n, D) -> m (n, D), s (n, D); output i depends only on x_{<i} (natural order)."""

    def __init__(self, D, H):
        super().__init__()
        d_in = torch.arange(1, D + 1)
        d_h = torch.arange(H) % max(1, D - 1) + 1
        m1 = (d_h[:, None] >= d_in[None, :]).float()
        m2 = (d_h[:, None] >= d_h[None, :]).float()
        d_out = torch.cat([d_in, d_in])
        m3 = (d_out[:, None] > d_h[None, :]).float()
        self.l1 = MaskedLinear(D, H, m1)
        self.l2 = MaskedLinear(H, H, m2)
        self.l3 = MaskedLinear(H, 2 * D, m3)
        self.D = D
        with torch.no_grad():
            self.l3.bias[D:].fill_(2.0)  # s-bias +2  -> sigmoid(s) ~ 0.88 at init

    def forward(self, x):
        h = F.relu(self.l1(x))
        h = F.relu(self.l2(h))
        o = self.l3(h)
        return o[:, :self.D], o[:, self.D:]


class IAF(nn.Module):
    def __init__(self, D, H, K=K_LAYERS, variant="stdbase"):
        super().__init__()
        self.D = D
        self.layers = nn.ModuleList([MADE(D, H) for _ in range(K)])
        self.variant = variant
        if variant == "diagbase":
            self.mu0 = nn.Parameter(torch.zeros(D))
            self.logsig0 = nn.Parameter(torch.zeros(D))
        self.c = -0.5 * D * math.log(2 * math.pi)

    def sample(self, n):
        eps = torch.randn(n, self.D)
        logq = self.c - 0.5 * (eps * eps).sum(1)
        z = eps
        if self.variant == "diagbase":
            z = self.mu0 + torch.exp(self.logsig0) * eps
            logq = logq - self.logsig0.sum()
        last = len(self.layers) - 1
        for k, made in enumerate(self.layers):
            m, s = made(z)
            sig = torch.sigmoid(s)
            z = sig * z + (1 - sig) * m
            logq = logq - F.logsigmoid(s).sum(1)
            if k < last:
                z = z.flip(1)
        return z, logq


# ------------------------------------------------------------------------------------------ helpers
def n_params(model):
    return sum(p.numel() for p in model.parameters())


def bench_steps(name, D, H, cfg, variant, n_steps, n_warm=30, seed=123, dtype=torch.float32, max_s=2.0):
    """Training steps/s on a fresh model; timed window = n_steps or max_s seconds, whichever comes first."""
    set_threads(*THREAD_CFGS[cfg])
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        torch.manual_seed(seed)
        logp = T.make_torch_logp(name, dtype)
        flow = IAF(D, H, variant=variant)
        opt = torch.optim.Adam(flow.parameters(), lr=LR)

        def step():
            x, lq = flow.sample(BATCH)
            loss = (lq - logp(x)).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        for _ in range(n_warm):
            step()
        t = time.perf_counter()
        n = 0
        while n < n_steps:
            step()
            n += 1
            if time.perf_counter() - t > max_s:
                break
        return n / (time.perf_counter() - t)
    finally:
        torch.set_default_dtype(old)


def train(name, D, H, threads, variant, seed, cap=CAP, stop=True):
    set_threads(threads)
    torch.manual_seed(seed)
    logp = T.make_torch_logp(name)
    flow = IAF(D, H, variant=variant)
    opt = torch.optim.Adam(flow.parameters(), lr=LR)
    hist = np.empty(cap)
    conv_step = None
    t0 = time.perf_counter()
    for t in range(cap):
        x, lq = flow.sample(BATCH)
        elbo = (logp(x) - lq).mean()
        opt.zero_grad(set_to_none=True)
        (-elbo).backward()
        opt.step()
        hist[t] = elbo.item()
        n = t + 1
        if n >= 2 * WINDOW and n % CHECK_EVERY == 0:
            ma_now = hist[n - WINDOW:n].mean()
            ma_prev = hist[n - 2 * WINDOW:n - WINDOW].mean()
            if ma_now - ma_prev < TOL and conv_step is None:
                conv_step = n
                if stop:
                    break
    wall = time.perf_counter() - t0
    steps = conv_step if (conv_step is not None and stop) else cap
    out = {"conv_step": conv_step, "steps": steps, "wall_s": wall, "converged": conv_step is not None,
           "train_elbo_ma500_end": float(hist[steps - WINDOW:steps].mean())}
    if not stop:  # training-curve checkpoints (MA500 of the batch ELBO)
        out["ma500_at"] = {str(k): float(hist[k - WINDOW:k].mean()) for k in range(1000, cap + 1, 1000)}
    return flow, out


@torch.no_grad()
def evaluate(flow, name, seed):
    torch.manual_seed(10_000 + seed)
    logp = T.make_torch_logp(name)
    x, lq = flow.sample(N_EVAL)
    lw = (logp(x) - lq).double()
    ok = torch.isfinite(lw)
    lw_ = lw[ok]
    N = lw.numel()
    lse = torch.logsumexp(lw_, 0).item()
    logz_is = lse - math.log(N)
    ess = math.exp(2 * lse - torch.logsumexp(2 * lw_, 0).item()) / N
    out = {"elbo": lw_.mean().item(), "logZ_IS": logz_is, "ess_over_N": ess, "n_nonfinite": int((~ok).sum())}
    xd = x.double().numpy()
    if name == "gmm2d":
        d2 = ((xd[:, None, :] - T.GMM_CENTERS[None]) ** 2).sum(-1)
        counts = np.bincount(d2.argmin(1), minlength=T.GMM_K)
        out["modes_with_ge1pct"] = int((counts >= 0.01 * N).sum())
    elif name == "banana2d":
        out["sd_x1_q"] = float(xd[:, 0].std())  # truth 10
    elif name == "funnel10":
        out["sd_v_q"] = float(xd[:, 0].std())  # truth 3
        out["min_v_q"] = float(xd[:, 0].min())
    elif name == "gauss50":
        _, lam = T.load_gauss50()
        Q = np.loadtxt(os.path.join(T.GAUSS50_DIR, "gauss50_rotation.csv"), delimiter=",")
        proj_var = (xd @ Q).var(0)  # variance along each eigenvector; truth = lam
        out["var_ratio_min_max"] = [float((proj_var / lam).min()), float((proj_var / lam).max())]
    return out


@torch.no_grad()
def bench_sampling(flow, cfg, reps=7):
    set_threads(*THREAD_CFGS[cfg])
    for _ in range(2):
        flow.sample(N_EVAL)
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        flow.sample(N_EVAL)
        ts.append(time.perf_counter() - t)
    return N_EVAL / statistics.median(ts)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def run_target(name, args):
    D = T.DIMS[name]
    H = HIDDEN[D]
    truth = T.log_z(name)
    res = {"target": name, "D": D, "H": H, "K": K_LAYERS, "variant": args.variant, "logZ_true": truth,
           "n_params": n_params(IAF(D, H, variant=args.variant)), "loadavg_start": loadavg()}
    nb = args.bench_steps or {2: 400, 10: 300, 50: 150}[D]
    # 1) training throughput, fresh models, 1 and 2 threads, interleaved repeats
    sps = {c: [] for c in THREAD_CFGS}
    sps64 = {c: [] for c in ("1thr", "2thr", "t1b2")}
    for r in range(args.repeats):
        for c in THREAD_CFGS:
            sps[c].append(bench_steps(name, D, H, c, args.variant, nb, seed=r))
        if args.f64:
            for c in sps64:
                sps64[c].append(bench_steps(name, D, H, c, args.variant, nb, seed=r, dtype=torch.float64))
    res["steps_per_s"] = {c: med(v) for c, v in sps.items()}
    res["steps_per_s"]["best2core"] = max(res["steps_per_s"][c] for c in ("2thr", "t1b2", "t2b1"))
    res["steps_per_s_all"] = sps
    if args.f64:
        res["steps_per_s_f64"] = {c: med(v) for c, v in sps64.items()}
    if args.bench_only:
        res["loadavg_end"] = loadavg()
        return res
    # 2) convergence runs + quality + sampling throughput
    runs = []
    for r in range(args.repeats):
        flow, tr = train(name, D, H, args.conv_threads, args.variant, seed=r, cap=args.cap,
                         stop=not args.no_stop)  # (n, n) thread pools
        ev = evaluate(flow, name, seed=r)
        sp = {"sample_per_s_" + c: bench_sampling(flow, c) for c in ("1thr", "2thr", "t1b2")}
        run = {"seed": r, **tr, **ev, **sp}
        runs.append(run)
        if "ma500_at" in tr:
            print("   [%s seed %d] criterion fired at %s; MA500 ELBO by step: %s"
                  % (name, r, tr["conv_step"], {k: round(v, 3) for k, v in tr["ma500_at"].items()}))
        print("   [%s seed %d] steps=%d conv=%s wall=%.1fs ELBO=%.4f logZ_IS=%.4f (true %.4f) ESS/N=%.4f %s"
              % (name, r, tr["steps"], tr["converged"], tr["wall_s"], ev["elbo"], ev["logZ_IS"], truth,
                 ev["ess_over_N"], {k: v for k, v in ev.items() if k not in ("elbo", "logZ_IS", "ess_over_N", "n_nonfinite")}),
              flush=True)
    res["runs"] = runs
    keys = ["steps", "wall_s", "elbo", "logZ_IS", "ess_over_N", "sample_per_s_1thr", "sample_per_s_2thr",
            "sample_per_s_t1b2"]
    res["median"] = {k: med([ru[k] for ru in runs]) for k in keys}
    res["median"]["n_converged"] = sum(ru["converged"] for ru in runs)
    res["median"]["logZ_IS_minus_true"] = res["median"]["logZ_IS"] - truth
    res["median"]["elbo_minus_logZ"] = res["median"]["elbo"] - truth
    res["loadavg_end"] = loadavg()
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default=",".join(T.TARGETS))
    ap.add_argument("--variant", default="stdbase", choices=["stdbase", "diagbase"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--conv-threads", type=int, default=1)
    ap.add_argument("--bench-steps", type=int, default=0, help="timed steps per steps/s measurement (0=auto)")
    ap.add_argument("--f64", action="store_true", help="also measure float64 training steps/s")
    ap.add_argument("--bench-only", action="store_true", help="only the training steps/s measurements")
    ap.add_argument("--cap", type=int, default=CAP, help="max training steps (spec: 5000)")
    ap.add_argument("--no-stop", action="store_true",
                    help="diagnostic: do not stop at the convergence criterion (still records when it fired)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.set_default_dtype(torch.float32)
    out_path = args.out or os.path.join(HERE, "results", "iaf_%s%s.json" % (args.variant,
                                                                         "_bench" if args.bench_only else ""))
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    all_res = {"config": {"K": K_LAYERS, "batch": BATCH, "lr": LR, "cap": args.cap, "no_stop": args.no_stop, "window": WINDOW, "tol": TOL,
                          "check_every": CHECK_EVERY, "n_eval": N_EVAL, "repeats": args.repeats,
                          "conv_threads": args.conv_threads, "torch": torch.__version__, "dtype": "float32"},
               "targets": {}}
    if os.path.exists(out_path):  # merge with previous per-target runs
        with open(out_path) as f:
            prev = json.load(f)
        all_res["targets"].update(prev.get("targets", {}))
    t_all = time.perf_counter()
    for name in args.targets.split(","):
        t0 = time.perf_counter()
        print("== %s (%s)" % (name, args.variant), flush=True)
        res = run_target(name, args)
        res["script_wall_s"] = time.perf_counter() - t0
        all_res["targets"][name] = res
        if args.bench_only:
            print("   float32 steps/s %s" % {c: round(v, 1) for c, v in res["steps_per_s"].items()})
            if args.f64:
                print("   float64 steps/s %s" % {c: round(v, 1) for c, v in res["steps_per_s_f64"].items()})
            with open(out_path, "w") as f:
                json.dump(all_res, f, indent=1)
            continue
        m = res["median"]
        print("   steps/s %s | conv steps=%d (%d/%d conv) wall=%.1fs | ELBO=%.4f logZ_IS=%.4f "
              "true=%.4f ESS/N=%.4f | sample/s 1thr=%.3g 2thr=%.3g t1b2=%.3g | %.0fs"
              % ({c: round(v, 1) for c, v in res["steps_per_s"].items()}, m["steps"], m["n_converged"],
                 args.repeats, m["wall_s"], m["elbo"], m["logZ_IS"], res["logZ_true"], m["ess_over_N"],
                 m["sample_per_s_1thr"], m["sample_per_s_2thr"], m["sample_per_s_t1b2"], res["script_wall_s"]),
              flush=True)
        if args.f64:
            print("   float64 steps/s %s" % {c: round(v, 1) for c, v in res["steps_per_s_f64"].items()})
        with open(out_path, "w") as f:
            json.dump(all_res, f, indent=1)
    print("total %.0fs -> %s" % (time.perf_counter() - t_all, out_path))


if __name__ == "__main__":
    main()
