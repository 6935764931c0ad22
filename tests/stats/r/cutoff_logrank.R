# Reference values for cartscope.stats.cutoff_logrank (tests/stats/test_cutoff_logrank.py).
# Usage: Rscript --vanilla cutoff_logrank.R out.json
# For every marker (column) separately: survdiff(Surv(time, event) ~ (value > cutoff)) on the
# patients whose value is not missing. Doubles are written as strings with 17 significant
# digits (jsonlite stops at 15), so Python reads exactly the numbers R used.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("cutoff_logrank.json")

one <- function(time, event, value, cutoff) {
  ok <- !is.na(value)
  high <- factor(value[ok] > cutoff, levels = c(FALSE, TRUE))
  if (length(unique(high)) < 2) return(list(chisq = NA_real_, obs = c(NA_real_, NA_real_),
                                            exp = c(NA_real_, NA_real_), var = NA_real_))
  sd <- survdiff(Surv(time[ok], event[ok]) ~ high)
  # rows of obs/exp: FALSE (low) then TRUE (high)
  list(chisq = sd$chisq, p = pchisq(sd$chisq, 1, lower.tail = FALSE),
       obs = as.numeric(sd$obs), exp = as.numeric(sd$exp), var = sd$var[2, 2],
       n = as.numeric(sd$n))
}

panel <- function(seed, n, m, tie_digits, na_share) {
  set.seed(seed)
  time <- round(rexp(n, 1 / 300), tie_digits)  # rounding makes tied times
  event <- rbinom(n, 1, 0.65)
  values <- matrix(round(rnorm(n * m), 3), n, m) + outer(event, seq(-0.8, 0.8, length.out = m))
  values[sample(length(values), round(na_share * length(values)))] <- NA
  values[, 2] <- round(values[, 2])  # heavy ties in one marker
  cutoffs <- apply(values, 2, median, na.rm = TRUE)
  cutoffs[3] <- max(values[, 3], na.rm = TRUE) + 1  # everyone low: test undefined
  list(time = time, event = event, values = values, cutoffs = cutoffs,
       results = lapply(seq_len(m), function(j) one(time, event, values[, j], cutoffs[j])))
}

res <- list(
  versions = list(R = R.version.string, survival = as.character(packageVersion("survival"))),
  panels = list(
    ties = panel(11, 90, 15, -1, 0.05),
    small = panel(12, 12, 6, 0, 0.1),
    larger = panel(13, 400, 25, 1, 0.02)
  ))
writeLines(toJSON(as17(res), auto_unbox = TRUE, matrix = "rowmajor"), out)
