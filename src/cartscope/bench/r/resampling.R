# Resampling as an R user loops it: Harrell's optimism of one marker's AUC (pROC roc on each
# bootstrap resample, then on the original data in the resample's direction), pROC's own
# ci.coords bootstrap of the Youden cut-off, and permutation p-values by wilcox.test per
# permutation and marker. Each loop is timed alone.
args_file <- sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))
source(file.path(dirname(args_file), "_common.R"))
packages <- c("pROC", "jsonlite")
bench_require(packages)
meta <- bench_meta()
n <- meta$n; m <- meta$m
x1 <- bench_read("x1.bin", n); y <- bench_read("y.bin", n)
panel <- matrix(bench_read("panel.bin", n * m), nrow = n)
set.seed(1)

start <- bench_elapsed()
r0 <- roc(y, x1, levels = c(0, 1), direction = "auto", quiet = TRUE)
opt <- numeric(meta$b_opt)
for (b in seq_len(meta$b_opt)) {
  repeat { idx <- sample.int(n, n, replace = TRUE); if (length(unique(y[idx])) == 2) break }
  rb <- roc(y[idx], x1[idx], levels = c(0, 1), direction = "auto", quiet = TRUE)
  ro <- roc(y, x1, levels = c(0, 1), direction = rb$direction, quiet = TRUE)
  opt[b] <- as.numeric(rb$auc) - as.numeric(ro$auc)
}
seconds_opt <- bench_elapsed() - start

start <- bench_elapsed()
best <- coords(r0, "best", best.method = "youden", ret = "threshold", transpose = FALSE)[1, 1]
ci <- suppressWarnings(ci.coords(r0, x = "best", input = "threshold", best.method = "youden",
                                 ret = c("threshold", "sensitivity", "specificity"),
                                 boot.n = meta$b_youden, progress = "none"))
seconds_youden <- bench_elapsed() - start

start <- bench_elapsed()
obs <- vapply(seq_len(m), function(j) unname(wilcox.test(panel[y == 1, j], panel[y == 0, j], exact = FALSE)$statistic), 0)
hits <- numeric(m)
for (b in seq_len(meta$b_perm)) {
  yp <- sample(y)
  for (j in seq_len(m)) {
    w <- unname(wilcox.test(panel[yp == 1, j], panel[yp == 0, j], exact = FALSE)$statistic)
    hits[j] <- hits[j] + (abs(w - sum(y == 1) * sum(y == 0) / 2) >= abs(obs[j] - sum(y == 1) * sum(y == 0) / 2))
  }
}
seconds_perm <- bench_elapsed() - start

bench_write(list(seconds_opt = seconds_opt, seconds_youden = seconds_youden, seconds_perm = seconds_perm,
                 apparent_auc = sprintf("%.17g", as.numeric(r0$auc)), youden_threshold = sprintf("%.17g", best),
                 w = sprintf("%.17g", obs)), packages)
