# End-to-end reference for cartscope.analysis.biomarkers.screen (tests/analysis/test_biomarkers_screen.py).
# Usage: Rscript --vanilla screen.R out.json
# A 60-patient panel of 6 markers (one strong, one with ties, one with missing values) with a
# binary failure outcome, follow-up and two subgroups. Per marker: wilcox.test (failure vs not),
# p.adjust(BH) over the panel and within each subgroup, pROC roc/ci.auc(delong)/coords(youden),
# survdiff at the Youden cut-off (high = value > cut) and coxph per unit. Doubles as 17-digit strings.
suppressPackageStartupMessages({
  library(survival)
  library(pROC)
  library(jsonlite)
})
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("screen.json")

set.seed(2023)
n <- 60
y <- rbinom(n, 1, 0.4)
grp <- ifelse(runif(n) < 0.45, "B-ALL", "B-NHL")
X <- cbind(
  strong = round(exp(rnorm(n, 1.2 * y, 0.6)), 3),
  lower_in_failure = round(exp(rnorm(n, -0.8 * y, 0.7)), 3),
  ties = round(runif(n, 0, 5)),
  null1 = round(exp(rnorm(n)), 4),
  null2 = round(rnorm(n, 10, 2), 3),
  with_na = round(exp(rnorm(n, 0.5 * y)), 3)
)
X[c(3, 17, 40), "with_na"] <- NA
time <- round(rexp(n, 1 / (300 * exp(-0.9 * y))))
event <- rbinom(n, 1, 0.75)

res <- lapply(colnames(X), function(m) {
  x <- X[, m]
  ok <- !is.na(x)
  w <- suppressWarnings(wilcox.test(x[y == 1 & ok], x[y == 0 & ok]))
  r <- roc(y[ok], x[ok], levels = c(0, 1), quiet = TRUE)
  ci <- as.numeric(ci.auc(r, method = "delong"))
  b <- coords(r, "best", best.method = "youden", ret = c("threshold", "sensitivity", "specificity"),
              transpose = FALSE)[1, ]
  high <- as.numeric(x[ok] > b$threshold)
  sd <- survdiff(Surv(time[ok], event[ok]) ~ high)
  cx <- coxph(Surv(time[ok], event[ok]) ~ x[ok])
  sub <- lapply(c("B-ALL", "B-NHL"), function(g) {
    s <- ok & grp == g
    suppressWarnings(wilcox.test(x[s & y == 1], x[s & y == 0]))$p.value
  })
  list(marker = m, W = unname(w$statistic), p = w$p.value, auc = as.numeric(auc(r)),
       direction = r$direction, ci = ci, cutoff = b$threshold, sens = b$sensitivity,
       spec = b$specificity, logrank_chisq = sd$chisq,
       logrank_p = pchisq(sd$chisq, 1, lower.tail = FALSE),
       cox_hr = unname(exp(coef(cx))), cox_p = summary(cx)$coefficients[1, 5],
       p_sub = unlist(sub))
})
p <- sapply(res, function(r) r$p)
q <- p.adjust(p, "BH")
q_sub <- lapply(1:2, function(k) p.adjust(sapply(res, function(r) r$p_sub[k]), "BH"))
writeLines(toJSON(as17(list(X = unname(lapply(colnames(X), function(m) X[, m])),
                            markers = colnames(X), y = as.numeric(y), group = grp,
                            time = as.numeric(time), event = as.numeric(event),
                            results = res, q = q, q_ball = q_sub[[1]], q_bnhl = q_sub[[2]])),
                  auto_unbox = TRUE, digits = NA, na = "string"), out)
