# Reference values for cartscope.stats.maxstat (tests/stats/test_maxstat.py).
# Usage: Rscript --vanilla maxstat.R out.json
# Each case writes its data beside maxstat.test's answers: statistic M, estimated cut-point,
# every admissible cut with its standardized statistic, and the p-values of pmethod "Lau94"
# and "exactGauss" (the latter with a tighter GenzBretz tolerance than maxstat's default, and
# with mvtnorm's own error estimate, which the test uses as its tolerance). Doubles as
# 17-digit strings.
suppressPackageStartupMessages({
  library(survival)
  library(maxstat)
  library(mvtnorm)
  library(jsonlite)
})
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("maxstat.json")

# pmethod = "exactGauss" is 1 - pmvnorm(-M, M, corr = corrmsrs(x)); called directly here so
# that the Monte-Carlo error estimate of mvtnorm (attribute "error") is kept for the test.
exact_gauss <- function(M, x, minprop, maxprop) {
  # maxstat's corrmsrs keeps the degenerate cuts of the full range (not a correlation matrix)
  if (minprop == 0 && maxprop == 1) return(list(p = NA_real_, error = NA_real_))
  cm <- maxstat:::corrmsrs(x, minprop, maxprop)
  set.seed(20240501)
  p <- pmvnorm(lower = rep(-M, nrow(cm)), upper = rep(M, nrow(cm)), corr = cm,
               algorithm = GenzBretz(maxpts = 2e5, abseps = 1e-5, releps = 0))
  list(p = 1 - as.numeric(p), error = attr(p, "error"))
}

surv_case <- function(name, time, event, x, minprop = 0.1, maxprop = 0.9) {
  d <- data.frame(time = time, event = event, x = x)
  d <- d[complete.cases(d), ]
  lau <- maxstat.test(Surv(time, event) ~ x, data = d, smethod = "LogRank",
                      pmethod = "Lau94", minprop = minprop, maxprop = maxprop)
  eg <- exact_gauss(lau$statistic, d$x, minprop, maxprop)
  list(name = name, smethod = "LogRank", time = time, event = event, x = x,
       minprop = minprop, maxprop = maxprop,
       statistic = unname(lau$statistic), estimate = unname(lau$estimate),
       cuts = unname(lau$cuts), stats = unname(lau$stats),
       p_lau94 = lau$p.value, p_exact_gauss = eg$p, p_exact_gauss_error = eg$error)
}

binary_case <- function(name, y, x, minprop = 0.1, maxprop = 0.9) {
  d <- data.frame(y = y, x = x)
  lau <- maxstat.test(y ~ x, data = d, smethod = "Wilcoxon", pmethod = "Lau94",
                      minprop = minprop, maxprop = maxprop)
  eg <- exact_gauss(lau$statistic, d$x, minprop, maxprop)
  list(name = name, smethod = "Wilcoxon", y = y, x = x, minprop = minprop, maxprop = maxprop,
       statistic = unname(lau$statistic), estimate = unname(lau$estimate),
       cuts = unname(lau$cuts), stats = unname(lau$stats),
       p_lau94 = lau$p.value, p_exact_gauss = eg$p, p_exact_gauss_error = eg$error)
}

vet <- survival::veteran
lng <- survival::lung
set.seed(7)
n <- 90
xr <- round(rexp(n, 0.2), 1)
tr <- round(rexp(n, 0.01 * exp(0.08 * xr)))
cr <- round(runif(n, 20, 400))
er <- as.numeric(tr <= cr)
tr <- pmin(tr, cr)
set.seed(11)
xb <- round(rnorm(60, 0, 1), 2)
yb <- rbinom(60, 1, plogis(1.2 * xb))

cases <- list(
  surv_case("veteran_karno", vet$time, vet$status, vet$karno),
  surv_case("veteran_age", vet$time, vet$status, vet$age),
  surv_case("lung_age", lng$time, lng$status - 1, lng$age),
  surv_case("lung_phkarno", lng$time, lng$status - 1, lng$ph.karno),
  surv_case("lung_wtloss_wide", lng$time, lng$status - 1, lng$wt.loss, 0.25, 0.75),
  surv_case("random_ties", tr, er, xr),
  binary_case("binary_random", yb, xb),
  binary_case("binary_veteran_prior", as.numeric(vet$prior == 10), vet$karno, 0.2, 0.8),
  # minprop = 0, maxprop = 1: R drops the cut below the largest value as well
  surv_case("random_full_range", tr, er, xr, 0, 1),
  binary_case("binary_full_range", yb, xb, 0, 1)
)
writeLines(toJSON(as17(list(cases = cases)), auto_unbox = TRUE, digits = NA, null = "null",
                  na = "string"), out)
