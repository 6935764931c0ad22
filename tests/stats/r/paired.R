# Reference values for cartscope.stats.paired (tests/stats/test_paired.py): wilcox.test(paired =
# TRUE), t.test(paired = TRUE), friedman.test and mcnemar.test from R's stats package.
# Usage: Rscript --vanilla paired.R out.json
# Every case carries its data; doubles are written with 17 significant digits.
suppressPackageStartupMessages(library(jsonlite))
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("paired.json")

nul <- function(v) if (is.null(v)) "auto" else v

# ---- wilcox.test(paired = TRUE) -----------------------------------------------------------
set.seed(20261201)
wx <- list()
addw <- function(name, x, y = NULL, alternative = "two.sided", exact = NULL, correct = TRUE,
                 mu = 0) {
  t <- if (is.null(y)) {
    suppressWarnings(wilcox.test(x, alternative = alternative, exact = exact, correct = correct,
                                 mu = mu))
  } else {
    suppressWarnings(wilcox.test(x, y, paired = TRUE, alternative = alternative, exact = exact,
                                 correct = correct, mu = mu))
  }
  wx[[length(wx) + 1]] <<- list(name = name, x = x, y = if (is.null(y)) "none" else y,
    alternative = alternative, exact = nul(exact), correct = correct, mu = mu,
    V = unname(t$statistic), p = t$p.value, method = t$method)
}
a <- round(rnorm(14, 10, 2), 3); b <- round(a + rnorm(14, 0.6, 1), 3)
addw("exact", a, b)
addw("exact_less", a, b, "less")
addw("exact_greater", a, b, "greater")
addw("exact_mu", a, b, mu = -0.5)
addw("one_sample", a - 10)
addw("one_sample_mu", a, mu = 9.5, alternative = "greater")
ta <- c(5, 7, 7, 9, 3, 4, 8, 6, 6, 10, 2, 5); tb <- c(4, 9, 7, 6, 5, 4, 6, 8, 3, 7, 3, 5)
addw("ties_zeros", ta, tb)
addw("ties_zeros_nocorrect", ta, tb, correct = FALSE)
addw("ties_zeros_less", ta, tb, "less")
addw("ties_zeros_forced_exact", ta, tb, exact = TRUE)
za <- c(1.5, 2.25, 3, 4.75, 6, 7.5); zb <- c(1.5, 1, 1.25, 2, 3.5, 4)
addw("zero_no_ties", za, zb)
na <- c(2.5, NA, 3.1, 4.0, 5.2, 1.1, 7.3); nb <- c(1.2, 3.3, NA, 3.2, 2.1, 0.4, 6.0)
addw("missing_pairs", na, nb)
la <- round(rnorm(70), 4); lb <- round(la + rnorm(70, 0.2), 4)
addw("large_normal", la, lb)
addw("large_forced_exact", la, lb, exact = TRUE)
addw("small_forced_normal", a, b, exact = FALSE)
addw("small_forced_normal_nocorrect", a, b, exact = FALSE, correct = FALSE)
addw("n49_exact", round(rnorm(49), 5), round(rnorm(49, 0.3), 5))
addw("float_diffs", c(0.1 + 0.2, 0.7, 1.3, 2.9), c(0.3, 0.1, 0.2, 0.4))

# ---- t.test(paired = TRUE) ----------------------------------------------------------------
tt <- list()
addt <- function(name, x, y, alternative = "two.sided", mu = 0, conf.level = 0.95) {
  t <- t.test(x, y, paired = TRUE, alternative = alternative, mu = mu, conf.level = conf.level)
  tt[[length(tt) + 1]] <<- list(name = name, x = x, y = y, alternative = alternative, mu = mu,
    level = conf.level, t = unname(t$statistic), df = unname(t$parameter), p = t$p.value,
    estimate = unname(t$estimate), se = t$stderr, ci = as.numeric(t$conf.int))
}
addt("two_sided", a, b)
addt("less", a, b, "less")
addt("greater_mu_90", a, b, "greater", mu = -1, conf.level = 0.9)
addt("missing", na, nb)
addt("large", la, lb, conf.level = 0.99)

# ---- friedman.test ------------------------------------------------------------------------
fr <- list()
addf <- function(name, m) {
  t <- friedman.test(m)
  fr[[length(fr) + 1]] <<- list(name = name, m = m, stat = unname(t$statistic),
    df = unname(t$parameter), p = t$p.value)
}
addf("random", matrix(round(rnorm(10 * 4), 2), 10, 4))
RoundingTimes <- matrix(c(5.40, 5.50, 5.55, 5.85, 5.70, 5.75, 5.20, 5.60, 5.50, 5.55, 5.50, 5.40,
  5.90, 5.85, 5.70, 5.45, 5.55, 5.60, 5.40, 5.40, 5.35, 5.45, 5.50, 5.35, 5.25, 5.15, 5.00,
  5.85, 5.80, 5.70, 5.25, 5.20, 5.10, 5.65, 5.55, 5.45, 5.60, 5.35, 5.45, 5.05, 5.00, 4.95,
  5.50, 5.50, 5.40, 5.45, 5.55, 5.50, 5.55, 5.55, 5.35, 5.45, 5.50, 5.55, 5.50, 5.45, 5.25,
  5.65, 5.60, 5.40, 5.70, 5.65, 5.55, 6.30, 6.30, 6.25), nrow = 22, byrow = TRUE)
addf("rounding_times_ties", RoundingTimes)
mm <- matrix(c(1, 2, 3, 2, 2, 1, NA, 3, 1, 4, 4, 4, 3, 1, 2, 2, 3, 1), ncol = 3, byrow = TRUE)
addf("missing_and_tied_rows", mm)
addf("two_groups", matrix(round(rnorm(8 * 2), 1), 8, 2))

# ---- mcnemar.test -------------------------------------------------------------------------
mc <- list()
addm <- function(name, m, correct = TRUE) {
  t <- mcnemar.test(m, correct = correct)
  mc[[length(mc) + 1]] <<- list(name = name, table = m, correct = correct,
    stat = unname(t$statistic), df = unname(t$parameter), p = t$p.value,
    corrected = grepl("continuity", t$method))
}
Performance <- matrix(c(794, 86, 150, 570), nrow = 2)
addm("presidential", Performance)
addm("presidential_nocorrect", Performance, FALSE)
addm("small", matrix(c(10, 3, 9, 8), 2))
addm("equal_discordant", matrix(c(10, 4, 4, 8), 2))
addm("three_by_three", matrix(c(20, 5, 3, 4, 15, 6, 2, 7, 18), 3))

res <- list(wilcox = wx, ttest = tt, friedman = fr, mcnemar = mc)
writeLines(toJSON(as17(res), auto_unbox = TRUE, matrix = "rowmajor", digits = NA), out)
