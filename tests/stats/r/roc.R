# Reference values for cartscope.stats.roc (tests/stats/test_roc.py), from pROC.
# Usage: Rscript --vanilla roc.R out.json
# Every case writes its data (score, label) beside pROC's answers: roc() direction and AUC,
# ci.auc(method = "delong"), var(), coords(roc, "all"), coords(roc, "best", youden) and
# roc.test(method = "delong", paired = TRUE). Doubles are written as strings with 17
# significant digits (jsonlite stops at 15), so every double reaches Python exactly.
suppressPackageStartupMessages({
  library(pROC)
  library(jsonlite)
})
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("roc.json")

one <- function(name, score, label, direction = "auto") {
  r <- roc(label, score, direction = direction, quiet = TRUE, levels = c(0, 1))
  ci <- if (length(r$cases) > 1 && length(r$controls) > 1) {
    as.numeric(ci.auc(r, method = "delong"))
  } else c(NA, NA, NA)
  v <- if (length(r$cases) > 1 && length(r$controls) > 1) var(r, method = "delong") else NA
  all <- coords(r, "all", ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)
  best <- coords(r, "best", best.method = "youden",
                 ret = c("threshold", "sensitivity", "specificity"), transpose = FALSE)
  a <- as.numeric(auc(r))
  n1 <- length(r$cases); n0 <- length(r$controls)
  q1 <- a / (2 - a); q2 <- 2 * a^2 / (1 + a)
  hm_se <- sqrt((a * (1 - a) + (n1 - 1) * (q1 - a^2) + (n0 - 1) * (q2 - a^2)) / (n1 * n0))
  list(name = name, score = score, label = label, direction_in = direction,
       direction = r$direction, auc = a, ci_delong = ci, var_delong = v,
       hanley_mcneil_se = hm_se, n_cases = n1, n_controls = n0,
       curve = list(threshold = all$threshold, sensitivity = all$sensitivity,
                    specificity = all$specificity),
       best = list(threshold = best$threshold, sensitivity = best$sensitivity,
                   specificity = best$specificity))
}

cases <- list()
add <- function(x) cases[[length(cases) + 1]] <<- x

# heavy ties: a 5-level ordinal marker
add(one("ties_ordinal",
        c(1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 1, 2, 3, 3, 4, 4, 4, 5, 5, 5, 2, 1),
        c(0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0)))
# tiny groups
add(one("tiny_2x2", c(0.3, 1.2, 0.8, 2.5), c(0, 0, 1, 1)))
add(one("tiny_1case", c(0.3, 1.2, 0.8, 2.5, 0.1), c(0, 0, 1, 0, 0)))
# perfect separation (AUC 1) and the same forced the wrong way (AUC 0)
add(one("perfect", c(1, 2, 3, 4, 5, 6, 7, 8), c(0, 0, 0, 0, 1, 1, 1, 1)))
add(one("perfect_forced", c(1, 2, 3, 4, 5, 6, 7, 8), c(0, 0, 0, 0, 1, 1, 1, 1), direction = ">"))
# constant marker
add(one("constant", rep(2.5, 10), c(0, 1, 0, 1, 0, 1, 1, 0, 0, 1)))
# medians favour "<" but most pairs favour ">": auto gives AUC below 0.5
add(one("auto_below_half",
        c(0, 5, 5, 9, 9, 6, 6, 6, 1, 1),
        c(0, 0, 0, 0, 0, 1, 1, 1, 1, 1)))
# several thresholds share the best Youden index
add(one("youden_ties", c(1, 2, 3, 4, 5, 6, 7, 8), c(0, 1, 0, 1, 0, 1, 0, 1)))
# descending marker
add(one("direction_gt", c(5.1, 4.2, 3.3, 2.4, 6.5, 1.6, 0.7, 3.8, 2.2, 4.9),
        c(0, 0, 1, 1, 0, 1, 1, 0, 1, 0)))

set.seed(20240611)
n <- 80
lab <- rbinom(n, 1, 0.4)
add(one("random_continuous", round(rnorm(n, mean = 0.8 * lab), 6), lab))
add(one("random_rounded", round(rexp(n, rate = 1 / (1 + lab)), 1), lab))
big <- 300
lab2 <- rbinom(big, 1, 0.3)
add(one("random_large", round(rnorm(big, mean = 0.5 * lab2), 3), lab2))

# panel: patients x markers with missing values, every marker with pROC separately
set.seed(7)
np_ <- 60; nm <- 12
plab <- rbinom(np_, 1, 0.45)
panel <- matrix(round(rnorm(np_ * nm), 2), np_, nm) + outer(plab, seq(-1, 1, length.out = nm))
panel[sample(length(panel), 40)] <- NA
panel[, 3] <- round(panel[, 3])  # heavy ties in one column
pres <- lapply(seq_len(nm), function(j) {
  ok <- !is.na(panel[, j])
  one(sprintf("panel_%d", j), panel[ok, j], plab[ok])
})

# paired DeLong tests
set.seed(99)
nt <- 70
tlab <- rbinom(nt, 1, 0.5)
m1 <- round(rnorm(nt, mean = tlab), 2)
m2 <- round(m1 + rnorm(nt, sd = 0.8), 1)
m3 <- -round(rnorm(nt, mean = 0.4 * tlab), 1)
tests <- list()
addt <- function(name, a, b, lab) {
  ra <- roc(lab, a, quiet = TRUE, levels = c(0, 1))
  rb <- roc(lab, b, quiet = TRUE, levels = c(0, 1))
  tt <- suppressWarnings(roc.test(ra, rb, method = "delong", paired = TRUE))
  tests[[length(tests) + 1]] <<- list(name = name, a = a, b = b, label = lab,
    z = unname(tt$statistic), p = tt$p.value, auc = unname(tt$estimate),
    ci = as.numeric(tt$conf.int),
    directions = c(ra$direction, rb$direction))
}
addt("correlated", m1, m2, tlab)
addt("opposite_direction", m1, m3, tlab)
addt("ties", cases[[1]]$score, rev(cases[[1]]$score), cases[[1]]$label)

res <- list(versions = list(R = R.version.string, pROC = as.character(packageVersion("pROC"))),
            cases = cases, panel = list(score = panel, label = plab, markers = pres),
            tests = tests)
writeLines(toJSON(as17(res), auto_unbox = TRUE, matrix = "rowmajor"), out)
