# Reference values for cartscope.report.tables.table_one (tests/report/test_table_one.py):
# per-group descriptive statistics (median, range, quantile type 7, mean, sd) and the p-value
# of each comparison, with the test chosen by the same rule as Table 1: wilcox.test (2 groups)
# or kruskal.test (> 2) for continuous variables; for categorical ones fisher.test when any
# expected count is below 5, else chisq.test(correct = FALSE) (and correct = TRUE for one case).
# The data set is generated here and written to the JSON, so both sides use the same numbers.
# Usage: Rscript --vanilla table_one.R out.json
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "table_one.json"

set.seed(20240611)
sizes <- c(A = 30, B = 25, C = 20)
grp <- rep(names(sizes), sizes)
n <- length(grp)
shift <- c(A = 0, B = 6, C = 3)[grp]
age <- round(rnorm(n, 45 + shift, 12), 2)          # no ties: exact Wilcoxon for A vs B
age[c(4, 40)] <- NA
ldh <- round(rlnorm(n, log(250) + shift / 20, 0.5) / 10) * 10  # ties: normal approximation
sex <- sample(c("F", "M"), n, replace = TRUE)      # large cells: chi-square
cns <- sample(c(TRUE, FALSE), n, replace = TRUE, prob = c(0.12, 0.88))  # rare: Fisher
cns[c(7, 33, 61)] <- NA
status <- sample(c("refractory", "first relapse", "second+ relapse"), n, replace = TRUE,
                 prob = c(0.7, 0.2, 0.1))          # rare levels: Fisher r x c
score <- sample(c("low", "high"), n, replace = TRUE, prob = c(0.45, 0.55))

continuous_test <- function(x, g) {
  keep <- !is.na(x)
  x <- x[keep]; g <- g[keep]
  lv <- unique(g)
  if (length(lv) == 2) {
    t <- suppressWarnings(wilcox.test(x[g == lv[1]], x[g == lv[2]]))
    list(test = "Mann-Whitney", p = t$p.value, statistic = unname(t$statistic))
  } else {
    t <- kruskal.test(x, factor(g))
    list(test = "Kruskal-Wallis", p = t$p.value, statistic = unname(t$statistic))
  }
}

categorical_test <- function(x, g, correct = FALSE) {
  keep <- !is.na(x)
  tab <- table(factor(x[keep]), factor(g[keep]))
  tab <- tab[rowSums(tab) > 0, colSums(tab) > 0, drop = FALSE]
  expected <- outer(rowSums(tab), colSums(tab)) / sum(tab)
  if (any(expected < 5)) {
    list(test = "Fisher", p = fisher.test(tab)$p.value, statistic = NA)
  } else {
    t <- chisq.test(tab, correct = correct)
    list(test = if (correct) "Chi-square (Yates)" else "Chi-square", p = t$p.value,
         statistic = unname(t$statistic))
  }
}

describe <- function(x, g) {
  res <- list()
  for (lv in c(unique(g), "Overall")) {
    v <- if (lv == "Overall") x else x[g == lv]
    v <- v[!is.na(v)]
    q <- unname(quantile(v, c(0.25, 0.5, 0.75)))
    res[[lv]] <- list(median = median(v), min = min(v), max = max(v), q1 = q[1], q3 = q[3],
                      mean = mean(v), sd = sd(v))
  }
  res
}

design <- function(keep) {
  g <- grp[keep]
  list(
    groups = unique(g),
    tests = list(
      age = continuous_test(age[keep], g),
      ldh = continuous_test(ldh[keep], g),
      sex = categorical_test(sex[keep], g),
      cns_involvement = categorical_test(cns[keep], g),
      disease_status = categorical_test(status[keep], g),
      score = categorical_test(score[keep], g)
    ),
    yates_score = categorical_test(score[keep], g, correct = TRUE),
    describe = list(age = describe(age[keep], g), ldh = describe(ldh[keep], g))
  )
}

res <- list(
  data = list(group = grp, age = age, ldh = ldh, sex = sex, cns_involvement = cns,
              disease_status = status, score = score),
  two_groups = design(grp %in% c("A", "B")),
  three_groups = design(rep(TRUE, n))
)
write_json(res, out, digits = NA, auto_unbox = TRUE, na = "null")
