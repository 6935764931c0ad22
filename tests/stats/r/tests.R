# Reference values for cartscope.stats.tests (tests/stats/test_tests.py): wilcox.test,
# kruskal.test, fisher.test, chisq.test, cor.test and p.adjust from R's stats package.
# Usage: Rscript --vanilla tests.R out.json
# Every case carries its data. Doubles are written as strings with 17 significant digits
# (jsonlite stops at 15), so Python reads exactly the numbers R used.
suppressPackageStartupMessages(library(jsonlite))
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("tests.json")

# ---- wilcox.test --------------------------------------------------------------------------
set.seed(101)
wx <- list()
addw <- function(name, x, y, alternative = "two.sided", exact = NULL, correct = TRUE) {
  t <- suppressWarnings(wilcox.test(x, y, alternative = alternative, exact = exact,
                                    correct = correct))
  wx[[length(wx) + 1]] <<- list(name = name, x = x, y = y, alternative = alternative,
    exact = if (is.null(exact)) "auto" else if (exact) "exact" else "asymptotic",
    correct = correct, W = unname(t$statistic), p = t$p.value, method = t$method)
}
a <- round(rnorm(12), 4); b <- round(rnorm(9, 0.8), 4)
addw("exact_small", a, b)
addw("exact_less", a, b, "less")
addw("exact_greater", a, b, "greater")
addw("tiny_1_vs_2", c(3.1), c(1.2, 5.5))
addw("tiny_2_vs_2", c(3.1, 4), c(1.2, 0.5))
ta <- c(1, 2, 2, 3, 3, 3, 4, 4, 5, 1, 1); tb <- c(2, 3, 3, 4, 5, 5, 5, 6, 2)
addw("ties_normal", ta, tb)
addw("ties_greater", ta, tb, "greater")
addw("ties_nocorrect", ta, tb, correct = FALSE)
addw("ties_less_nocorrect", ta, tb, "less", correct = FALSE)
la <- round(rnorm(60), 5); lb <- round(rnorm(55, 0.3), 5)
addw("large_normal", la, lb)
addw("forced_asymptotic", a, b, exact = FALSE)
addw("forced_exact_49", round(rnorm(49), 6), round(rnorm(49, 0.4), 6))
addw("large_rounded", round(rexp(80), 1), round(rexp(70, 0.7), 1))
addw("all_tied", c(2, 2, 2), c(2, 2))

# same data as a matrix (patients x markers) with missing values, one wilcox.test per column
mx <- matrix(round(rnorm(25 * 6), 2), 25, 6); my <- matrix(round(rnorm(30 * 6, 0.3), 2), 30, 6)
mx[, 2] <- round(mx[, 2]); my[, 2] <- round(my[, 2])
mx[c(3, 7), 4] <- NA; my[c(1, 2, 3), 5] <- NA
mx[, 6] <- round(rnorm(25), 8); my[, 6] <- round(rnorm(30), 8)
wpanel <- lapply(1:6, function(j) {
  t <- suppressWarnings(wilcox.test(mx[, j], my[, j]))
  list(W = unname(t$statistic), p = t$p.value)
})

# ---- kruskal.test -------------------------------------------------------------------------
kw <- list()
addk <- function(name, groups) {
  t <- kruskal.test(groups)
  kw[[length(kw) + 1]] <<- list(name = name, groups = groups, H = unname(t$statistic),
                                df = unname(t$parameter), p = t$p.value)
}
addk("ties", list(ta, tb, c(2, 2, 7, 1)))
addk("random", list(round(rnorm(15), 3), round(rnorm(12, 0.5), 3), round(rnorm(20, -0.2), 3),
                    round(rnorm(3), 3)))

# ---- fisher.test --------------------------------------------------------------------------
# fisher.test finds the estimate and CI with uniroot at its default tolerance (~1e-4); the
# "tight" values run the same function with uniroot at tol 1e-13 for a like-for-like check.
fisher_tight <- stats::fisher.test
environment(fisher_tight) <- list2env(
  list(uniroot = function(f, interval, ...) stats::uniroot(f, interval, ..., tol = 1e-13)),
  parent = asNamespace("stats"))
fi <- list()
addf <- function(name, tab, alternative = "two.sided") {
  t <- fisher.test(tab, alternative = alternative)
  res <- list(name = name, table = tab, alternative = alternative, p = t$p.value)
  if (all(dim(tab) == 2)) {
    tt <- fisher_tight(tab, alternative = alternative)
    res$estimate <- unname(t$estimate); res$ci <- as.numeric(t$conf.int)
    res$estimate_tight <- unname(tt$estimate); res$ci_tight <- as.numeric(tt$conf.int)
  }
  fi[[length(fi) + 1]] <<- res
}
addf("classic", matrix(c(3, 1, 1, 3), 2, byrow = TRUE))
addf("unbalanced", matrix(c(12, 5, 3, 17), 2, byrow = TRUE))
addf("zero_cell", matrix(c(0, 7, 5, 4), 2, byrow = TRUE))
addf("less", matrix(c(2, 9, 8, 3), 2, byrow = TRUE), "less")
addf("greater", matrix(c(10, 2, 4, 9), 2, byrow = TRUE), "greater")
addf("large", matrix(c(45, 21, 30, 52), 2, byrow = TRUE))
addf("r3x3", matrix(c(3, 1, 2, 1, 3, 0, 2, 2, 5), 3, byrow = TRUE))
addf("r2x4", matrix(c(4, 0, 2, 6, 1, 5, 3, 2), 2, byrow = TRUE))
addf("r3x2", matrix(c(7, 1, 2, 6, 4, 4), 3, byrow = TRUE))
# Table 1 shapes: a characteristic with 8 levels by 2 groups, 4 x 3 and 3 x 5, and one row
# with a level nobody in one group has (network algorithm against FEXACT)
addf("t1_8x2", matrix(c(12, 9, 15, 11, 8, 10, 20, 6, 5, 9, 7, 3, 4, 8, 2, 2), 8, byrow = TRUE))
addf("t1_4x3", matrix(c(20, 15, 10, 12, 18, 9, 7, 11, 17, 5, 9, 6), 4, byrow = TRUE))
addf("t1_3x5", matrix(c(8, 5, 3, 1, 0, 4, 6, 5, 3, 2, 1, 2, 4, 6, 7), 3, byrow = TRUE))
addf("t1_5x2_zero", matrix(c(30, 25, 14, 20, 10, 12, 0, 4, 3, 0), 5, byrow = TRUE))

# ---- chisq.test ---------------------------------------------------------------------------
cs <- list()
addc <- function(name, tab, correct = TRUE) {
  t <- suppressWarnings(chisq.test(tab, correct = correct))
  cs[[length(cs) + 1]] <<- list(name = name, table = tab, correct = correct,
    stat = unname(t$statistic), df = unname(t$parameter), p = t$p.value,
    expected = unname(t$expected))
}
addc("yates", matrix(c(12, 5, 3, 9), 2, byrow = TRUE))
addc("no_yates", matrix(c(12, 5, 3, 9), 2, byrow = TRUE), FALSE)
addc("yates_small_diff", matrix(c(10, 10, 10, 10.0), 2, byrow = TRUE))
addc("r3x4", matrix(c(10, 4, 7, 3, 6, 9, 2, 8, 5, 5, 11, 1), 3, byrow = TRUE))
gof <- suppressWarnings(chisq.test(c(18, 25, 12, 9)))
gofp <- suppressWarnings(chisq.test(c(18, 25, 12, 9), p = c(0.3, 0.3, 0.2, 0.2)))

# ---- cor.test -----------------------------------------------------------------------------
cr <- list()
addr <- function(name, x, y, method, alternative = "two.sided") {
  t <- suppressWarnings(cor.test(x, y, method = method, alternative = alternative))
  cr[[length(cr) + 1]] <<- list(name = name, x = x, y = y, method = method,
    alternative = alternative, estimate = unname(t$estimate),
    statistic = unname(t$statistic), p = t$p.value,
    ci = if (is.null(t$conf.int)) c(NA_real_, NA_real_) else as.numeric(t$conf.int))
}
set.seed(202)
cx <- round(rnorm(30), 4); cy <- round(cx * 0.5 + rnorm(30), 4)
addr("pearson", cx, cy, "pearson")
addr("pearson_less", cx, cy, "pearson", "less")
addr("pearson_greater", cx, cy, "pearson", "greater")
addr("pearson_n4", c(1, 2.5, 2, 4), c(2, 3, 1, 5), "pearson")
addr("spearman_n7_exact", c(1, 5, 2, 7, 3, 6, 4), c(2, 6, 1, 7, 4, 3, 5), "spearman")
addr("spearman_n9_exact", c(9, 1, 5, 2, 7, 3, 6, 4, 8), c(8, 2, 6, 1, 7, 4, 3, 5, 9), "spearman")
addr("spearman_n9_greater", c(9, 1, 5, 2, 7, 3, 6, 4, 8), c(8, 2, 6, 1, 7, 4, 3, 5, 9), "spearman", "greater")
addr("spearman_edgeworth", cx, cy, "spearman")
addr("spearman_edgeworth_less", cx, -cy, "spearman", "less")
addr("spearman_negative", cx, -cy, "spearman")
addr("spearman_ties", round(cx), round(cy), "spearman")
addr("spearman_large", round(rnorm(200), 6), round(rnorm(200), 6), "spearman")
addr("kendall_exact", cx[1:12], cy[1:12], "kendall")
addr("kendall_exact_greater", cx[1:12], cy[1:12], "kendall", "greater")
addr("kendall_ties", round(cx), round(cy), "kendall")
addr("kendall_large", cx * 1:30, cy, "kendall")
addr("na_pairs", c(1, 2, NA, 4, 5, 6, 7), c(2, 1, 3, NA, 6, 5, 8), "pearson")

# ---- p.adjust -----------------------------------------------------------------------------
set.seed(303)
pv <- c(round(runif(15)^3, 6), 0.01, 0.01, NA, 0.04, 1, NA, 0)
pa <- lapply(c("BH", "BY", "holm", "bonferroni", "hochberg", "hommel"), function(m) {
  list(method = m, adjusted = p.adjust(pv, m), adjusted_n40 = p.adjust(pv, m, n = 40))
})
# Hommel on short vectors (n = 2 is Hochberg in R) and with ties
hommel_small <- lapply(list(c(0.01, 0.04), c(0.03, 0.02, 0.04), c(0.01, 0.01, 0.2, 0.04, 0.5)),
                       function(p) list(p = p, adjusted = p.adjust(p, "hommel")))

res <- list(
  versions = list(R = R.version.string),
  wilcox = wx, wilcox_panel = list(x = mx, y = my, results = wpanel),
  kruskal = kw, fisher = fi, chisq = cs,
  chisq_gof = list(x = c(18, 25, 12, 9), stat = unname(gof$statistic), p = gof$p.value,
                   stat_p = unname(gofp$statistic), p_p = gofp$p.value),
  cor = cr, padjust = list(p = pv, results = pa, hommel_small = hommel_small))
writeLines(toJSON(as17(res), auto_unbox = TRUE, matrix = "rowmajor"), out)
