# Biomarker screen, one marker at a time as an R user writes it: wilcox.test, pROC roc +
# ci.auc (DeLong) + coords("best", Youden), survival survdiff at the Youden cut-off, and (the
# screen's default) a univariable coxph per marker. The loop is timed twice in the same run:
# without coxph (the peer of cox_per = "none") and with it (the peer of the defaults).
# Only the loops over markers are timed (reading the data is not).

args_file <- sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))
source(file.path(dirname(args_file), "_common.R"))
packages <- c("survival", "pROC", "jsonlite")
bench_require(packages)

meta <- bench_meta()
n <- meta$n_patients
k <- meta$n_markers
x <- matrix(bench_read("x.bin", n * k), nrow = n)
label <- bench_read("label.bin", n)
time <- bench_read("time.bin", n)
event <- bench_read("event.bin", n)

one_marker <- function(v) {
  mw <- wilcox.test(v[label == 1], v[label == 0])$p.value
  r <- roc(label, v, levels = c(0, 1), direction = "auto", quiet = TRUE)
  ci <- as.numeric(ci.auc(r, method = "delong"))
  best <- coords(r, "best", best.method = "youden",
                 ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)[1, ]
  high <- v > best$threshold
  lr <- survdiff(Surv(time, event) ~ high)
  c(mw, ci[2], ci[1], ci[3], best$threshold, best$sensitivity, best$specificity,
    pchisq(lr$chisq, 1, lower.tail = FALSE))
}

with_cox <- function(v) {
  fit <- coxph(Surv(time, event) ~ v)
  c(one_marker(v), unname(coef(fit)), unname(sqrt(fit$var[1, 1])),
    summary(fit)$coefficients[1, "Pr(>|z|)"])
}

seconds <- numeric(meta$repeats)
seconds_cox <- numeric(meta$repeats)
for (i in seq_len(meta$repeats)) {
  start <- bench_elapsed()
  res <- vapply(seq_len(k), function(j) one_marker(x[, j]), numeric(8))
  seconds[i] <- bench_elapsed() - start
  start <- bench_elapsed()
  resc <- vapply(seq_len(k), function(j) with_cox(x[, j]), numeric(11))
  seconds_cox[i] <- bench_elapsed() - start
}

bench_write(list(
  seconds = seconds,
  mw_p = res[1, ], auc = res[2, ], auc_lower = res[3, ], auc_upper = res[4, ],
  threshold = res[5, ], sensitivity = res[6, ], specificity = res[7, ], logrank_p = res[8, ],
  seconds_cox = seconds_cox, cox_coef = resc[9, ], cox_se = resc[10, ], cox_p = resc[11, ]
), packages)
