# Reference for cartscope.clinical.infections: first severe infection (grade >= 3) with death as
# the competing event, coded here independently, and cmprsk::cuminc estimates at fixed days.
# Usage: Rscript --vanilla infections_cuminc.R out.json
suppressPackageStartupMessages({
  library(cmprsk)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else "infections_cuminc.json"

set.seed(20261216)
n <- 60
ids <- sprintf("p%02d", 1:n)
fu <- sample(40:700, n, replace = TRUE)
dead <- rbinom(n, 1, 0.3) == 1
k <- rpois(n, 1.2)
inf <- do.call(rbind, lapply(seq_len(n), function(i) {
  if (k[i] == 0) return(NULL)
  data.frame(patient_id = ids[i], day = sort(sample(0:fu[i], k[i], replace = TRUE)),
             grade = sample(1:4, k[i], replace = TRUE, prob = c(0.2, 0.45, 0.3, 0.05)))
}))
# coding: first infection of grade >= 3 before death -> 1 at its day; else death -> 2; else censored at fu
time <- fu; cause <- ifelse(dead, 2L, 0L)
for (i in seq_len(n)) {
  s <- inf[inf$patient_id == ids[i] & inf$grade >= 3, ]
  if (nrow(s) > 0 && s$day[1] <= fu[i]) { time[i] <- s$day[1]; cause[i] <- 1L }
}
times <- c(30, 100, 180, 365)
ci <- cuminc(time, cause, cencode = 0)
tp <- timepoints(ci, times)
write_json(list(
  patients = data.frame(patient_id = ids, fu = fu, dead = dead),
  infections = inf, time = time, cause = cause, times = times,
  est1 = sprintf("%.17g", tp$est["1 1", ]), var1 = sprintf("%.17g", tp$var["1 1", ]),
  est2 = sprintf("%.17g", tp$est["1 2", ])
), out, digits = NA, auto_unbox = TRUE, dataframe = "columns")
