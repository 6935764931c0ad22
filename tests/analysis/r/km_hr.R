# Cox hazard ratios of each level against the first (coxph, Efron ties, Wald 95% CI) and the
# log-rank test of the same split, on the patients a km analysis with annotate_hr used.
# Usage: Rscript --vanilla km_hr.R data.csv out.json   (columns time, event, group, rank: the level order, rank 0 = reference)
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[[1]], colClasses = c(group = "character"))
d$group <- factor(d$group, levels = unique(d$group[order(d$rank)]))
fit <- coxph(Surv(time, event) ~ group, data = d, ties = "efron")
ci <- exp(confint(fit))
sd <- survdiff(Surv(time, event) ~ group, data = d)
write_json(list(levels = levels(d$group), hr = unname(exp(coef(fit))), lower = unname(ci[, 1]),
                upper = unname(ci[, 2]), p = unname(summary(fit)$coefficients[, "Pr(>|z|)"]),
                logrank_p = 1 - pchisq(sd$chisq, length(sd$n) - 1)),
           args[[2]], digits = NA, auto_unbox = FALSE)
