"""The PyTorch side of bench/flows.ts, timed exactly as bench/flows.ts times flowsampler: the
anchors' IAF (bench/anchors/iaf_anchor.py: K = 6 gated layers, MADE with two hidden layers of H
units, base N(0, I), Adam 1e-3), torch and OpenBLAS pinned to 1 thread.

- training: 30 warm-up steps, then `blocks` blocks of `steps` steps each; steps/s per block;
- sampling: flow.sample(10000) (x and log q, no_grad), 2 warm-up calls, then `reps` timed calls;
both report every block, so the bench can take the median (and best) of each side the same way.
Also the OpenBLAS core it runs on (a generic "Prescott" fallback makes torch 2-3x slower: set
OPENBLAS_CORETYPE for this command then) and its 1024^2 fp32 GFLOP/s.

usage: /usr/bin/python3 bench/flowsTorch.py '{"targets": [...], "batches": {...}, "blocks": 7, ...}'
prints one JSON object on stdout.
"""
import ctypes
import json
import os
import sys
import time

ANCHORS = os.environ.get("FLOWSAMPLER_ANCHORS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "anchors"))
sys.path.insert(0, ANCHORS)
import iaf_anchor as A  # noqa: E402
import targets as T  # noqa: E402
import torch  # noqa: E402


def openblas_info():
    try:
        ob = ctypes.CDLL("libopenblas.so.0")
        ob.openblas_get_corename.restype = ctypes.c_char_p
        ob.openblas_get_config.restype = ctypes.c_char_p
        return {"corename": ob.openblas_get_corename().decode(), "config": ob.openblas_get_config().decode()}
    except OSError as e:
        return {"corename": None, "error": str(e)}


def gflops():
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    t = time.perf_counter()
    n = 10
    for _ in range(n):
        a @ b
    return 2 * 1024 ** 3 * n / (time.perf_counter() - t) / 1e9


def train_blocks(name, batch, blocks, steps, warm=30, seed=123):
    D = T.DIMS[name]
    torch.manual_seed(seed)
    logp = T.make_torch_logp(name)
    flow = A.IAF(D, A.HIDDEN[D])
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)

    def step():
        x, lq = flow.sample(batch)
        loss = (lq - logp(x)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warm):
        step()
    rates = []
    for _ in range(blocks):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(steps / (time.perf_counter() - t))
    return rates


@torch.no_grad()
def sample_blocks(name, reps, n=10_000):
    D = T.DIMS[name]
    torch.manual_seed(0)
    flow = A.IAF(D, A.HIDDEN[D])
    for _ in range(2):
        flow.sample(n)
    rates = []
    for _ in range(reps):
        t = time.perf_counter()
        flow.sample(n)
        rates.append(n / (time.perf_counter() - t))
    return rates


def main():
    cfg = json.loads(sys.argv[1])
    A.set_threads(1, 1)
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "openblas": openblas_info(),
           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "gflops_1024_fp32_1thr": gflops(), "train": {}, "sample": {}, "sweep": {}}
    for name in cfg["targets"]:
        out["train"][name] = train_blocks(name, cfg.get("batch", 256), cfg["blocks"], cfg["steps"][name])
        out["sample"][name] = sample_blocks(name, cfg.get("reps", 7))
    for name, batches in cfg.get("sweep", {}).items():
        out["sweep"][name] = {str(b): train_blocks(name, b, cfg["blocks"], cfg["sweepSteps"]) for b in batches}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
