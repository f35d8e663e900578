"""Target densities shared by the Python anchor scripts (iaf_anchor.py, emcee_anchor.py).

All targets are UNNORMALIZED log densities  log p~(x);  p(x) = p~(x) / Z,  log Z given exactly.
Convention: all additive constants are dropped, so log Z is the full normalizer.

banana2d  (Haario et al. 1999 "twisted Gaussian", b = 0.1, variance of x1 = 100):
    log p~(x) = -x1^2 / 200 - (x2 + 0.1 x1^2 - 10)^2 / 2
    i.e. x1 ~ N(0, 10^2),  x2 | x1 ~ N(10 - 0.1 x1^2, 1)          (E[x] = 0)
    Z = sqrt(2 pi 100) * sqrt(2 pi) = 20 pi,          log Z = log(20 pi) = 4.140462...

funnel10  (Neal's funnel, D = 10, x = (v, x_1..x_9)):
    log p~ = -v^2 / 18 - exp(-v) * sum_i x_i^2 / 2 - (9/2) v
    i.e. v ~ N(0, 3^2),  x_i | v ~ N(0, exp(v))
    Z = 3 sqrt(2 pi) * (2 pi)^(9/2) = 3 (2 pi)^5,    log Z = log 3 + 5 log(2 pi) = 10.287998...

gmm2d  (8 equal-weight isotropic Gaussians, sd 0.3, centres on a circle of radius 4):
    mu_k = 4 (cos(2 pi k / 8), sin(2 pi k / 8)),  k = 0..7
    log p~ = logsumexp_k( -|x - mu_k|^2 / (2 * 0.3^2) )
    Z = 8 * 2 pi * 0.09 = 1.44 pi,                    log Z = log(1.44 pi) = 1.509373...

gauss50  (zero-mean Gaussian, D = 50, covariance condition number 100):
    Sigma = Q diag(lam) Q^T,  lam_i = 10^(-1 + 2 (i-1)/49)  (log-spaced 0.1 .. 10),
    Q = Haar-random orthogonal: QR of a 50x50 standard normal matrix drawn with
        numpy.random.default_rng(20240501).standard_normal((50, 50)), columns sign-fixed so diag(R) > 0.
    log p~ = -x^T P x / 2,  P = Q diag(1/lam) Q^T  (stored as gauss50_precision.csv)
    Z = (2 pi)^25 det(Sigma)^(1/2),  log Z = 25 log(2 pi) + 0.5 sum_i log lam_i = 25 log(2 pi)  (sum log lam = 0)
    The CSV files (17 significant digits) are the reference definition; generate_gauss50() rewrites them.
"""
import math
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# flowsampler keeps the gauss50 matrices once, with the tests' reference data.
GAUSS50_DIR = os.path.join(HERE, "..", "..", "test", "fixtures", "reference", "gauss50")
GAUSS50_SEED = 20240501
GMM_SD = 0.3
GMM_RADIUS = 4.0
GMM_K = 8
BANANA_B = 0.1
BANANA_VAR1 = 100.0


def generate_gauss50(write=True):
    rng = np.random.default_rng(GAUSS50_SEED)
    A = rng.standard_normal((50, 50))
    Q, R = np.linalg.qr(A)
    Q = Q * np.sign(np.diag(R))[None, :]
    lam = 10.0 ** np.linspace(-1.0, 1.0, 50)
    cov = (Q * lam[None, :]) @ Q.T
    prec = (Q * (1.0 / lam)[None, :]) @ Q.T
    cov = 0.5 * (cov + cov.T)
    prec = 0.5 * (prec + prec.T)
    if write:
        fmt = "%.17g"
        np.savetxt(os.path.join(GAUSS50_DIR, "gauss50_rotation.csv"), Q, delimiter=",", fmt=fmt)
        np.savetxt(os.path.join(GAUSS50_DIR, "gauss50_eigenvalues.csv"), lam, delimiter=",", fmt=fmt)
        np.savetxt(os.path.join(GAUSS50_DIR, "gauss50_cov.csv"), cov, delimiter=",", fmt=fmt)
        np.savetxt(os.path.join(GAUSS50_DIR, "gauss50_precision.csv"), prec, delimiter=",", fmt=fmt)
    return Q, lam, cov, prec


def load_gauss50():
    p = os.path.join(GAUSS50_DIR, "gauss50_precision.csv")
    if not os.path.exists(p):
        generate_gauss50(write=True)
    prec = np.loadtxt(p, delimiter=",")
    lam = np.loadtxt(os.path.join(GAUSS50_DIR, "gauss50_eigenvalues.csv"), delimiter=",")
    return prec, lam


GMM_CENTERS = np.array([[GMM_RADIUS * math.cos(2 * math.pi * k / GMM_K),
                         GMM_RADIUS * math.sin(2 * math.pi * k / GMM_K)] for k in range(GMM_K)])


def log_z(name):
    if name == "banana2d":
        return math.log(2 * math.pi * math.sqrt(BANANA_VAR1))
    if name == "funnel10":
        return math.log(3.0) + 5 * math.log(2 * math.pi)
    if name == "gmm2d":
        return math.log(GMM_K * 2 * math.pi * GMM_SD ** 2)
    if name == "gauss50":
        _, lam = load_gauss50()
        return 25 * math.log(2 * math.pi) + 0.5 * float(np.sum(np.log(lam)))
    raise KeyError(name)


DIMS = {"banana2d": 2, "funnel10": 10, "gmm2d": 2, "gauss50": 50}
TARGETS = ["banana2d", "funnel10", "gmm2d", "gauss50"]


# ---------------------------------------------------------------- numpy (emcee), x: (n, D) or (D,)
def make_numpy_logp(name):
    if name == "banana2d":
        def f(x):
            x = np.atleast_2d(x)
            x1, x2 = x[:, 0], x[:, 1]
            return -x1 ** 2 / (2 * BANANA_VAR1) - 0.5 * (x2 + BANANA_B * x1 ** 2 - BANANA_VAR1 * BANANA_B) ** 2
        return f
    if name == "funnel10":
        def f(x):
            x = np.atleast_2d(x)
            v = x[:, 0]
            s = np.sum(x[:, 1:] ** 2, axis=1)
            return -v ** 2 / 18.0 - 0.5 * np.exp(-v) * s - 4.5 * v
        return f
    if name == "gmm2d":
        c = GMM_CENTERS
        inv2s2 = 1.0 / (2 * GMM_SD ** 2)
        def f(x):
            x = np.atleast_2d(x)
            d2 = (x[:, None, 0] - c[None, :, 0]) ** 2 + (x[:, None, 1] - c[None, :, 1]) ** 2
            a = -d2 * inv2s2
            m = a.max(axis=1)
            return m + np.log(np.exp(a - m[:, None]).sum(axis=1))
        return f
    if name == "gauss50":
        prec, _ = load_gauss50()
        def f(x):
            x = np.atleast_2d(x)
            return -0.5 * np.einsum("ij,ij->i", x @ prec, x)
        return f
    raise KeyError(name)


# ---------------------------------------------------------------- torch (IAF), x: (n, D)
def make_torch_logp(name, dtype=None):
    import torch
    dtype = dtype or torch.get_default_dtype()
    if name == "banana2d":
        def f(x):
            x1, x2 = x[:, 0], x[:, 1]
            return -x1 ** 2 / (2 * BANANA_VAR1) - 0.5 * (x2 + BANANA_B * x1 ** 2 - BANANA_VAR1 * BANANA_B) ** 2
        return f
    if name == "funnel10":
        def f(x):
            v = x[:, 0]
            return -v ** 2 / 18.0 - 0.5 * torch.exp(-v) * (x[:, 1:] ** 2).sum(1) - 4.5 * v
        return f
    if name == "gmm2d":
        c = torch.tensor(GMM_CENTERS, dtype=dtype)
        inv2s2 = 1.0 / (2 * GMM_SD ** 2)
        def f(x):
            d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
            return torch.logsumexp(-d2 * inv2s2, dim=1)
        return f
    if name == "gauss50":
        prec, _ = load_gauss50()
        P = torch.tensor(prec, dtype=dtype)
        def f(x):
            return -0.5 * ((x @ P) * x).sum(1)
        return f
    raise KeyError(name)


if __name__ == "__main__":
    # (Re)generate the gauss50 CSVs and print a self-check of every normalizer.
    Q, lam, cov, prec = generate_gauss50(write=True)
    print("gauss50: |Q^T Q - I|max = %.2e, cond(cov) = %.6g, sum log lam = %.3e"
          % (np.abs(Q.T @ Q - np.eye(50)).max(), np.linalg.cond(cov), np.sum(np.log(lam))))
    rng = np.random.default_rng(0)
    for name in TARGETS:
        print("%-9s D=%2d  log Z = %.6f" % (name, DIMS[name], log_z(name)))
    # Monte-Carlo check of log Z for the 2-D targets on a grid
    for name in ["banana2d", "gmm2d"]:
        f = make_numpy_logp(name)
        g1 = np.linspace(-60, 60, 2401) if name == "banana2d" else np.linspace(-6, 6, 1201)
        g2 = np.linspace(-400, 30, 8601) if name == "banana2d" else np.linspace(-6, 6, 1201)
        X1, X2 = np.meshgrid(g1, g2, indexing="ij")
        lp = f(np.stack([X1.ravel(), X2.ravel()], 1))
        m = lp.max()
        z = math.log(np.exp(lp - m).sum() * (g1[1] - g1[0]) * (g2[1] - g2[0])) + m
        print("  grid check %-9s log Z(grid) = %.6f" % (name, z))
