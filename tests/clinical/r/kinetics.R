# Reference values for tests/clinical/test_kinetics.py, computed with base R.
# Usage: Rscript --vanilla kinetics.R out.json
args <- commandArgs(trailingOnly = TRUE)
t <- c(0, 3, 7, 14, 21, 35, 60)
c <- c(0, 100, 1000, 400, 200, 50, 10)

seg <- function(t1, c1, t2, c2, logdown) {
  if (logdown && c2 < c1 && c2 > 0) (c1 - c2) / log(c1 / c2) * (t2 - t1) else (c1 + c2) / 2 * (t2 - t1)
}
interp <- function(t1, c1, t2, c2, at, logdown) {
  f <- (at - t1) / (t2 - t1)
  if (logdown && c2 < c1 && c2 > 0) exp(log(c1) + f * (log(c2) - log(c1))) else c1 + f * (c2 - c1)
}
auc_to <- function(t, c, end, logdown) {
  total <- 0
  for (i in seq_len(length(t) - 1)) {
    if (t[i] >= end) break
    if (t[i + 1] > end) {
      ce <- interp(t[i], c[i], t[i + 1], c[i + 1], end, logdown)
      total <- total + seg(t[i], c[i], end, ce, logdown)
      break
    }
    total <- total + seg(t[i], c[i], t[i + 1], c[i + 1], logdown)
  }
  total
}

post <- t > 7
fit <- lm(log(c[post]) ~ t[post])
up <- t > 0 & t <= 7
fit_up <- lm(log(c[up]) ~ t[up])

out <- list(
  auc28_linear = auc_to(t, c, 28, FALSE),
  auc28_logdown = auc_to(t, c, 28, TRUE),
  auc_tlast_linear = auc_to(t, c, 60, FALSE),
  half_life = log(2) / -unname(coef(fit)[2]),
  half_life_r2_adj = summary(fit)$adj.r.squared,
  doubling_time = log(2) / unname(coef(fit_up)[2])
)
jsonlite::write_json(out, args[1], digits = NA, auto_unbox = TRUE)
