# Reference confidence intervals for a binomial proportion, written as JSON.
# Usage: Rscript --vanilla proportions.R out.json
#   Clopper-Pearson: binom.test; Wilson: prop.test(correct = FALSE); Wilson with continuity
#   correction: prop.test (correct = TRUE);
#   modified Wilson, Agresti-Coull, Jeffreys, Wald: closed forms below (qchisq, qbeta, qnorm).
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)

grid <- list()
for (n in c(1, 2, 3, 5, 13, 26, 49, 50, 51, 75, 100, 101, 250)) {
  xs <- if (n <= 30) 0:n else sort(unique(c(0:4, n - 0:4, round(n * c(0.1, 0.37, 0.5, 0.81)))))
  for (level in c(0.95, 0.90, 0.99)) {
    grid[[length(grid) + 1]] <- data.frame(x = xs, n = n, level = level)
  }
}
grid <- do.call(rbind, grid)

ci <- function(x, n, level) {
  alpha <- 1 - level
  z <- qnorm(1 - alpha / 2)
  p <- x / n
  cp <- binom.test(x, n, conf.level = level)$conf.int
  # prop.test warns that the chi-squared approximation may be poor for small n; the interval
  # itself is the exact Wilson score interval, so the warning is irrelevant here.
  wi <- suppressWarnings(prop.test(x, n, conf.level = level, correct = FALSE))$conf.int
  wc <- suppressWarnings(prop.test(x, n, conf.level = level, correct = TRUE))$conf.int
  centre <- (x + z^2 / 2) / (n + z^2)
  half <- z * sqrt(n) / (n + z^2) * sqrt(p * (1 - p) + z^2 / (4 * n))
  mw_lo <- max(0, centre - half)
  mw_hi <- min(1, centre + half)
  if ((n <= 50 && x %in% c(1, 2)) || (n >= 51 && n <= 100 && x %in% 1:3))
    mw_lo <- 0.5 * qchisq(alpha, 2 * x) / n
  if ((n <= 50 && x %in% c(n - 1, n - 2)) || (n >= 51 && n <= 100 && x %in% (n - 1:3)))
    mw_hi <- 1 - 0.5 * qchisq(alpha, 2 * (n - x)) / n
  nt <- n + z^2
  pt <- (x + z^2 / 2) / nt
  ac <- c(max(0, pt - z * sqrt(pt * (1 - pt) / nt)), min(1, pt + z * sqrt(pt * (1 - pt) / nt)))
  je <- c(if (x == 0) 0 else qbeta(alpha / 2, x + 0.5, n - x + 0.5),
          if (x == n) 1 else qbeta(1 - alpha / 2, x + 0.5, n - x + 0.5))
  wa <- c(max(0, p - z * sqrt(p * (1 - p) / n)), min(1, p + z * sqrt(p * (1 - p) / n)))
  c(cp, wi, mw_lo, mw_hi, ac, je, wa, wc)
}

res <- t(mapply(ci, grid$x, grid$n, grid$level))
out <- list(
  x = grid$x, n = grid$n, level = grid$level,
  `clopper-pearson` = list(lower = res[, 1], upper = res[, 2]),
  wilson = list(lower = res[, 3], upper = res[, 4]),
  `wilson-modified` = list(lower = res[, 5], upper = res[, 6]),
  `agresti-coull` = list(lower = res[, 7], upper = res[, 8]),
  jeffreys = list(lower = res[, 9], upper = res[, 10]),
  wald = list(lower = res[, 11], upper = res[, 12]),
  `wilson-cc` = list(lower = res[, 13], upper = res[, 14])
)
write_json(out, args[1], digits = NA)
