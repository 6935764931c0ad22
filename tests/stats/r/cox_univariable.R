# Reference values for cartscope.stats._cox_univariable: one survival::coxph per marker.
# Usage: Rscript --vanilla cox_univariable.R out.json
# A panel with missing values, tied event times (whole days, many ties), a marker with tied
# values and a marker with an outlier; each column fitted alone on its non-missing rows, with
# Efron and Breslow ties. Doubles are written with 17 significant digits.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else "cox_univariable.json"

set.seed(20240515)
n <- 160
m <- 12
x <- matrix(rnorm(n * m), n, m)
x[, 2] <- round(x[, 2])                  # tied marker values
x[, 3] <- exp(x[, 3])                    # skewed
x[7, 4] <- 25                            # an outlier
x[, 5] <- x[, 5] * 1000                  # a large scale
x[matrix(runif(n * m) < 0.08, n, m)] <- NA
hazard <- exp(0.6 * ifelse(is.na(x[, 1]), 0, x[, 1]))
time <- ceiling(rexp(n, hazard / 40))
censor <- ceiling(runif(n, 5, 120))
status <- as.integer(time <= censor)
time <- pmin(time, censor)

fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
fits <- lapply(c("efron", "breslow"), function(ties) {
  rows <- lapply(seq_len(m), function(j) {
    fit <- coxph(Surv(time, status) ~ x[, j], ties = ties)
    s <- summary(fit)
    list(
      coef = fmt(unname(coef(fit))),
      se = fmt(unname(sqrt(diag(fit$var)))),
      p = fmt(unname(s$coefficients[, "Pr(>|z|)"])),
      loglik = fmt(unname(fit$loglik)),
      lr = fmt(2 * diff(fit$loglik)),
      score = fmt(unname(fit$score)),
      concordance = fmt(unname(s$concordance)),
      n = fit$n, nevent = fit$nevent, iter = fit$iter
    )
  })
  list(ties = ties, markers = rows)
})
write_json(
  list(x = apply(x, 2, fmt), time = time, status = status, fits = fits),
  out, auto_unbox = TRUE, digits = NA
)
