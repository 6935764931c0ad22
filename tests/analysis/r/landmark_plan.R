# R on the patients a plan's day-28 landmark analysis used: survdiff and coxph of the status
# with time from the landmark, and survfit per status.
# Usage: Rscript --vanilla landmark_plan.R data.csv out.json   (columns time, event, status)
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[[1]], colClasses = c(status = "character"))
L <- 28
lm <- subset(d, time > L)
lm$t <- lm$time - L
sd <- survdiff(Surv(t, event) ~ status, data = lm)
fit <- coxph(Surv(t, event) ~ status, data = lm)
sf <- survfit(Surv(t, event) ~ status, data = lm, conf.type = "log-log")
tab <- summary(sf)$table
write_json(list(n = nrow(lm), chisq = unname(sd$chisq), p = unname(1 - pchisq(sd$chisq, 1)),
                coef = unname(coef(fit)), se = unname(sqrt(diag(fit$var))),
                median = unname(tab[, "median"]) + L, events = unname(tab[, "events"])),
           args[[2]], digits = NA, auto_unbox = TRUE, na = "null")
