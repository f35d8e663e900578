# Stan NUTS anchor (rstan 2.21, Debian r-cran-rstan), the project's copy of the shared anchor script,
# changed only in where it reads and writes: the gauss50 matrices from test/fixtures/reference/gauss50,
# results into OUTDIR, and seeds FIRST_SEED.. (bench/stanNuts.ts runs it one seed at a time, between
# flowsampler's own runs).  Run:  Rscript stan_anchor.R [targets] [repeats] [OUTDIR] [FIRST_SEED]
#   e.g.  Rscript stan_anchor.R banana2d,funnel10,gmm2d,gauss50 5    (defaults: all targets, 5 repeats)
# One Stan program (stan/targets.stan) holds all four targets (switch on target_id), so it compiles once
# (~1-2 min; rstan auto_write caches stan/targets.rds, later runs skip compilation).
# Per target and repeat (seed = repeat index): 4 chains x (1000 warmup + 1000 draws), chains run
# sequentially (cores = 1), default NUTS (diag_e metric, adapt_delta 0.8, max_treedepth 10), default inits.
# Reported (median over repeats):
#   min bulk-ESS over parameters (rstan::ess_bulk, rank-normalised, Vehtari et al. 2021), max Rhat,
#   sampling time = sum over chains of get_elapsed_time() [warmup, sample] columns (compilation excluded),
#   ESS/s (sampling phase only; and warmup+sampling), ESS per 1000 gradient evaluations with gradient evals =
#   sum of n_leapfrog__ over post-warmup draws (and incl. warmup), divergences, treedepth-10 hits.
# Output: results/stan_runs.csv (every run), results/stan_summary.csv (medians), printed table.
suppressMessages(library(rstan))

args_all <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args_all[grep("^--file=", args_all)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else getwd()
args <- commandArgs(trailingOnly = TRUE)
targets <- if (length(args) >= 1) strsplit(args[1], ",")[[1]] else c("banana2d", "funnel10", "gmm2d", "gauss50")
repeats <- if (length(args) >= 2) as.integer(args[2]) else 5L
out_dir <- if (length(args) >= 3) args[3] else file.path(here, "results")
first_seed <- if (length(args) >= 4) as.integer(args[4]) else 1L
fixtures <- file.path(here, "..", "..", "test", "fixtures", "reference", "gauss50")

rstan_options(auto_write = TRUE)
options(mc.cores = 1)
# Debian's r-cran-bh is a virtual package (Boost lives in /usr/include/boost), so rstan's default
# boost_lib (BH/include) does not exist.  Point it at a directory containing only a 'boost' symlink
# (not -I/usr/include itself, which breaks libstdc++'s #include_next).
if (!file.exists(rstan_options("boost_lib")) && dir.exists("/usr/include/boost")) {
  bdir <- file.path(tempdir(), "boost_include")
  dir.create(bdir, showWarnings = FALSE)
  if (!file.exists(file.path(bdir, "boost"))) file.symlink("/usr/include/boost", file.path(bdir, "boost"))
  rstan_options(boost_lib = bdir)
}
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

t0 <- proc.time()[["elapsed"]]
sm <- stan_model(file.path(here, "stan", "targets.stan"))
compile_s <- proc.time()[["elapsed"]] - t0
cat(sprintf("model ready in %.1f s (compile or cache load)\n", compile_s))

P50 <- as.matrix(read.csv(file.path(fixtures, "gauss50_precision.csv"), header = FALSE))
dimnames(P50) <- NULL
lam50 <- scan(file.path(fixtures, "gauss50_eigenvalues.csv"), quiet = TRUE)
Q50 <- as.matrix(read.csv(file.path(fixtures, "gauss50_rotation.csv"), header = FALSE))
dimnames(Q50) <- NULL
info <- list(banana2d = list(id = 1L, D = 2L), funnel10 = list(id = 2L, D = 10L),
             gmm2d = list(id = 3L, D = 2L), gauss50 = list(id = 4L, D = 50L))
mu <- cbind(4 * cos(2 * pi * (0:7) / 8), 4 * sin(2 * pi * (0:7) / 8))

rows <- list()
for (name in targets) {
  ti <- info[[name]]
  dat <- list(target_id = ti$id, D = ti$D, P = if (name == "gauss50") P50 else diag(ti$D))
  for (r in first_seed - 1L + seq_len(repeats)) {
    wall <- system.time(
      fit <- suppressWarnings(sampling(sm, data = dat, chains = 4, iter = 2000, warmup = 1000, seed = r,
                                       cores = 1, refresh = 0, show_messages = FALSE))
    )[["elapsed"]]
    arr <- as.array(fit, pars = "x")  # iterations x chains x D
    ess <- apply(arr, 3, ess_bulk)
    rhat <- apply(arr, 3, Rhat)
    el <- get_elapsed_time(fit)  # chains x (warmup, sample)
    sp_post <- get_sampler_params(fit, inc_warmup = FALSE)
    sp_all <- get_sampler_params(fit, inc_warmup = TRUE)
    nlf_post <- sum(sapply(sp_post, function(m) sum(m[, "n_leapfrog__"])))
    nlf_all <- sum(sapply(sp_all, function(m) sum(m[, "n_leapfrog__"])))
    div <- sum(sapply(sp_post, function(m) sum(m[, "divergent__"])))
    td10 <- sum(sapply(sp_post, function(m) sum(m[, "treedepth__"] >= 10)))
    stepsize <- mean(sapply(sp_post, function(m) m[1, "stepsize__"]))
    ess_min <- min(ess)
    t_warm <- sum(el[, "warmup"])
    t_samp <- sum(el[, "sample"])
    flat <- matrix(arr, ncol = ti$D)
    diag_txt <- ""
    if (name == "funnel10") diag_txt <- sprintf("sd_v=%.3f min_v=%.2f", sd(flat[, 1]), min(flat[, 1]))
    if (name == "banana2d") diag_txt <- sprintf("sd_x1=%.3f", sd(flat[, 1]))
    if (name == "gmm2d") {
      lab <- apply(flat, 1, function(p) which.min((p[1] - mu[, 1])^2 + (p[2] - mu[, 2])^2))
      lab_chain <- matrix(lab, ncol = 4)
      modes_per_chain <- apply(lab_chain, 2, function(l) length(unique(l)))
      diag_txt <- sprintf("modes_visited_per_chain=%s total_modes=%d", paste(modes_per_chain, collapse = "/"),
                          length(unique(lab)))
    }
    if (name == "gauss50") {
      vr <- apply(flat %*% Q50, 2, var) / lam50
      diag_txt <- sprintf("var_ratio=[%.3f,%.3f]", min(vr), max(vr))
    }
    row <- data.frame(target = name, rep = r, ess_bulk_min = ess_min, rhat_max = max(rhat),
                      t_warmup_s = t_warm, t_sample_s = t_samp, wall_sampling_call_s = wall,
                      ess_per_s_sample = ess_min / t_samp, ess_per_s_total = ess_min / (t_warm + t_samp),
                      n_leapfrog_post = nlf_post, n_leapfrog_all = nlf_all,
                      ess_per_1000_grad_post = 1000 * ess_min / nlf_post,
                      ess_per_1000_grad_all = 1000 * ess_min / nlf_all,
                      ess_per_grad_post = ess_min / nlf_post,
                      divergences = div, treedepth10 = td10, stepsize = stepsize, diag = diag_txt,
                      stringsAsFactors = FALSE)
    rows[[length(rows) + 1]] <- row
    cat(sprintf("  [%s rep %d] ESSbulk_min=%.0f Rhat_max=%.3f t_warm=%.2fs t_samp=%.2fs ESS/s(samp)=%.0f ESS/s(tot)=%.0f grads(post)=%d ESS/1000grad=%.2f div=%d td10=%d eps=%.3f %s\n",
                name, r, ess_min, max(rhat), t_warm, t_samp, ess_min / t_samp, ess_min / (t_warm + t_samp),
                as.integer(nlf_post), 1000 * ess_min / nlf_post, as.integer(div), as.integer(td10), stepsize,
                diag_txt))
    flush.console()
  }
}
runs <- do.call(rbind, rows)
runs_path <- file.path(out_dir, "stan_runs.csv")
if (file.exists(runs_path)) {  # merge: keep previous rows for targets not rerun
  old <- read.csv(runs_path, stringsAsFactors = FALSE)
  runs <- rbind(old[!(old$target %in% targets), , drop = FALSE], runs)
}
write.csv(runs, runs_path, row.names = FALSE)
num <- c("ess_bulk_min", "rhat_max", "t_warmup_s", "t_sample_s", "ess_per_s_sample", "ess_per_s_total",
         "n_leapfrog_post", "ess_per_1000_grad_post", "ess_per_1000_grad_all", "divergences", "treedepth10")
summ <- do.call(rbind, lapply(split(runs, runs$target), function(d) {
  data.frame(target = d$target[1], repeats = nrow(d), t(sapply(num, function(k) median(d[[k]]))))
}))
write.csv(summ, file.path(out_dir, "stan_summary.csv"), row.names = FALSE)
cat(sprintf("\ncompile/cache-load %.1f s; rstan %s; medians over repeats:\n", compile_s, packageVersion("rstan")))
print(summ, row.names = FALSE, digits = 4)
