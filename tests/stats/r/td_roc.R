# Reference values for cartscope.stats.td_roc: riskRegression::Score, cumulative/dynamic
# AUC(t) with Kaplan-Meier IPCW, with its influence-function SE (conservative and full).
# Usage: Rscript --vanilla td_roc.R out.json
suppressPackageStartupMessages({
  library(riskRegression)
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else "td_roc.json"

score_case <- function(name, time, status, risk, times) {
  d <- data.frame(time = time, status = status)
  res <- lapply(c(FALSE, TRUE), function(cons) {
    sc <- Score(list(m = risk), formula = Hist(time, status) ~ 1, data = d, times = times,
                metrics = "auc", cens.model = "km", conservative = cons, se.fit = TRUE,
                null.model = FALSE)
    s <- sc$AUC$score
    list(conservative = cons, times = s$times, auc = s$AUC, se = s$se, lower = s$lower,
         upper = s$upper)
  })
  list(name = name, time = time, status = status, marker = risk, times = times, scores = res)
}

pbc <- survival::pbc[!is.na(survival::pbc$bili), ]
vet <- survival::veteran
set.seed(20261201)
n <- 80
marker <- round(rnorm(n), 1)            # ties in the marker
t_event <- rexp(n, exp(0.7 * marker) / 200)
t_cens <- runif(n, 50, 600)
sim_time <- round(pmin(t_event, t_cens) / 5) * 5 + 5   # ties in time, events and censorings
sim_status <- as.integer(t_event <= t_cens)
cases <- list(
  score_case("pbc_bili", pbc$time, as.integer(pbc$status == 2), pbc$bili, c(365, 1461, 2922)),
  # Score treats larger values as higher risk; karno is protective, hence its negative
  score_case("veteran_karno", vet$time, vet$status, -vet$karno, c(30, 90, 180)),
  score_case("simulated_ties", sim_time, sim_status, marker, c(60, 150, 300))
)
write_json(list(cases = cases), out, digits = NA, auto_unbox = TRUE, na = "null")
