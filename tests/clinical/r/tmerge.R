# Reference rows for cartscope.clinical.timevarying.counting_process_table: survival::tmerge.
# Usage: Rscript --vanilla tmerge.R out.json
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else "tmerge.json"

set.seed(20261201)
n <- 30
base <- data.frame(id = sprintf("p%02d", 1:n), futime = sample(20:400, n, replace = TRUE),
                   status = rbinom(n, 1, 0.6), age = round(rnorm(n, 55, 10)))
# HSCT: about a third, some on the last day or after it, one at day 0
hsct <- data.frame(id = base$id[1:10], day = c(0, 50, 80, base$futime[4], base$futime[5] + 10,
                                              30, 45, 60, 90, 120))
# first response: about half, one at a change day shared with HSCT
resp <- data.frame(id = base$id[c(2, 3, 11:20)], day = c(50, 28, sample(7:60, 10)))
# reinfusions: repeated for some patients (a count)
reinf <- data.frame(id = base$id[c(21, 21, 22, 23, 23, 23)], day = c(15, 60, 100, 10, 20, 30))
tm <- tmerge(base[, c("id", "age")], base, id = id, death = event(futime, status))
tm <- tmerge(tm, hsct, id = id, hsct = tdc(day))
tm <- tmerge(tm, resp, id = id, response = tdc(day))
tm <- tmerge(tm, reinf, id = id, reinfusions = cumtdc(day))
tm$hsct[is.na(tm$hsct)] <- 0
tm$response[is.na(tm$response)] <- 0
tm$reinfusions[is.na(tm$reinfusions)] <- 0
write_json(list(base = base, hsct = hsct, response = resp, reinfusion = reinf,
                rows = as.list(tm[, c("id", "tstart", "tstop", "death", "age", "hsct", "response",
                                      "reinfusions")])),
           out, digits = NA, auto_unbox = TRUE, dataframe = "columns")
