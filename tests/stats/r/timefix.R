# Reference values for the R corners closed in cartscope.stats.km / survival
# (tests/stats/test_timefix.py): survfit and survdiff merging near-equal times (timefix /
# aeqSurv), and quantile.survfit where the log-scale band is not monotone or stays at 1.
# Usage: Rscript --vanilla timefix.R out.json
suppressPackageStartupMessages({library(jsonlite); library(survival)})
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("timefix.json")

# times computed two ways: 0.1 + 0.2 and 0.3, 0.7 and 7 * 0.1, 1.1 and 2.2 - 1.1
tm <- c(0.1 + 0.2, 0.3, 0.7, 7 * 0.1, 1.1, 2.2 - 1.1, 3, 0.3, 5, 6, 0.1 * 3, 8)
st <- c(1, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1)
gr <- c(1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2)
f <- survfit(Surv(tm, st) ~ 1, conf.type = "log")
ld <- survdiff(Surv(tm, st) ~ gr)
km <- list(time_in = tm, status = st, group = gr, n_distinct_raw = length(unique(tm)),
           time = f$time, n_risk = f$n.risk, n_event = f$n.event, surv = f$surv,
           std_err = f$std.err, chisq = unname(ld$chisq), obs = unname(ld$obs), exp = unname(ld$exp))

qcase <- function(name, time, status, conf.type, probs) {
  f <- survfit(Surv(time, status) ~ 1, conf.type = conf.type)
  q <- quantile(f, probs = probs)
  list(name = name, time = time, status = status, conf_type = conf.type, probs = probs,
       quantile = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
}
probs <- c(0, 0.1, 0.25, 0.5, 0.75, 1)
quant <- list(
  qcase("aml_log", aml$time, aml$status, "log", probs),
  qcase("aml_loglog", aml$time, aml$status, "log-log", probs),
  qcase("band_at_one", c(1, 2, 3, 4, 5), c(1, 0, 0, 0, 0), "log", probs),
  qcase("band_at_one_8", c(1, 2, 3, 4, 5, 6, 7, 8), c(1, 1, 0, 1, 0, 0, 1, 0), "log", probs),
  qcase("plain_8", c(1, 2, 3, 4, 5, 6, 7, 8), c(1, 1, 0, 1, 0, 0, 1, 0), "plain", probs)
)
writeLines(toJSON(as17(list(km = km, quantile = quant)), auto_unbox = TRUE, digits = NA), out)
