"""Sampling throughput of the PyTorch reference IAF (bench/anchors/iaf_anchor.py), for
bench/flows.ts. iaf_anchor.py --bench-only measures training steps/s only; this helper measures
samples/s of flow.sample(10000) (x and log q, no_grad, 2 warm-up + median of 7) with the anchor's
own IAF class and bench_sampling(), on a fresh model, with both thread pools pinned to 1
("1thr", the anchors' fair reference for single-threaded JS).

usage: /usr/bin/python3 bench/flowsAnchor.py banana2d,funnel10,gauss50 [reps]
prints one JSON object {target: samples_per_s} on stdout.
"""
import json
import os
import sys

ANCHORS = os.environ.get("FLOWSAMPLER_ANCHORS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "anchors"))
sys.path.insert(0, ANCHORS)
import iaf_anchor as A  # noqa: E402
import targets as T  # noqa: E402
import torch  # noqa: E402


def main():
    names = sys.argv[1].split(",")
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    out = {}
    for name in names:
        D = T.DIMS[name]
        torch.manual_seed(0)
        flow = A.IAF(D, A.HIDDEN[D])
        out[name] = A.bench_sampling(flow, "1thr", reps=reps)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
