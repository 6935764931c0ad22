# Kaplan-Meier (survfit, log-log limits) and a k-group log-rank (survdiff) on one large
# cohort. Each call is timed on its own; reading the data is not timed.

args_file <- sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))
source(file.path(dirname(args_file), "_common.R"))
packages <- c("survival", "jsonlite")
bench_require(packages)

meta <- bench_meta()
n <- meta$n_patients
time <- bench_read("time.bin", n)
event <- bench_read("event.bin", n)
group <- bench_read("group.bin", n)

seconds_km <- numeric(meta$repeats)
seconds_logrank <- numeric(meta$repeats)
for (i in seq_len(meta$repeats)) {
  start <- bench_elapsed()
  fit <- survfit(Surv(time, event) ~ 1, conf.type = "log-log")
  seconds_km[i] <- bench_elapsed() - start
  start <- bench_elapsed()
  lr <- survdiff(Surv(time, event) ~ group)
  seconds_logrank[i] <- bench_elapsed() - start
}

at <- summary(fit, times = meta$landmarks)
bench_write(list(
  seconds = seconds_km + seconds_logrank,
  seconds_km = seconds_km,
  seconds_logrank = seconds_logrank,
  landmarks = at$time,
  survival = at$surv,
  lower = at$lower,
  upper = at$upper,
  chisq = lr$chisq
), packages)
