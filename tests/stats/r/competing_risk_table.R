# Numbers at risk and cumulative events per cause and censorings at fixed times, from the
# multi-state survfit: summary(survfit(Surv(time, factor(cause)) ~ group), times =, extend = TRUE);
# n.risk of the initial state "(s0)", n.event and n.censor summed over the intervals up to t.
# Usage: Rscript --vanilla competing_risk_table.R data.csv marks.csv out.json
#   data.csv: time, cause (0 = censored), group; marks.csv: time
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[[1]], colClasses = c(group = "character"))
marks <- read.csv(args[[2]])$time
fit <- survfit(Surv(time, factor(cause)) ~ group, data = d)
s <- summary(fit, times = marks, extend = TRUE)
states <- s$states
out <- list()
for (st in levels(s$strata)) {
  rows <- which(s$strata == st)
  g <- sub("^group=", "", st)
  ev <- list()
  for (k in seq_along(states)[-1]) ev[[states[k]]] <- cumsum(s$n.event[rows, k])
  out[[g]] <- list(time = s$time[rows], n_risk = s$n.risk[rows, 1], censored = cumsum(s$n.censor[rows]),
                   events = ev)
}
write_json(out, args[[3]], digits = NA, auto_unbox = FALSE)
