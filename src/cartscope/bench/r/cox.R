# Cox model with Efron ties (coxph) on a large cohort with p numeric covariates. Only the
# coxph call is timed.

args_file <- sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))
source(file.path(dirname(args_file), "_common.R"))
packages <- c("survival", "jsonlite")
bench_require(packages)

meta <- bench_meta()
n <- meta$n_patients
p <- meta$n_covariates
x <- matrix(bench_read("x.bin", n * p), nrow = n)
time <- bench_read("time.bin", n)
event <- bench_read("event.bin", n)

seconds <- numeric(meta$repeats)
for (i in seq_len(meta$repeats)) {
  start <- bench_elapsed()
  fit <- coxph(Surv(time, event) ~ x, ties = "efron")
  seconds[i] <- bench_elapsed() - start
}

bench_write(list(
  seconds = seconds,
  coef = unname(coef(fit)),
  loglik = fit$loglik[2],
  iterations = fit$iter
), packages)
