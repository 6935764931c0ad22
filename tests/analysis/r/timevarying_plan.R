# R coxph on the (start, stop] rows a plan's time-varying Cox used (HSCT as a tdc).
# Usage: Rscript --vanilla timevarying_plan.R rows.csv out.json
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
rows <- read.csv(args[[1]], colClasses = c(patient_id = "character"))
fit <- coxph(Surv(tstart, tstop, event) ~ age + hsct, data = rows, cluster = patient_id)
write_json(list(coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
                naive_se = unname(sqrt(diag(fit$naive.var))),
                concordance = unname(fit$concordance[c("concordance", "std")])),
           args[[2]], digits = NA, auto_unbox = TRUE)
