# Reference values for cartscope.stats.rmst and cartscope.stats.km_counting.
# RMST: survfit's rmean and se(rmean) per group (print(survfit, rmean = tau)); the survRM2
# contrasts (not in Debian) are the formulas of Uno et al. 2014 evaluated here on those values.
# Simon-Makuch: survfit(Surv(start, stop, event) ~ group) on data split at the change.
# Usage: Rscript --vanilla rmst_sm.R out.json
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else "rmst_sm.json"

rmst_case <- function(name, time, status, arm, tau) {
  tab <- summary(survfit(Surv(time, status) ~ arm), rmean = tau)$table
  r0 <- tab[1, "rmean"]; s0 <- tab[1, "se(rmean)"]
  r1 <- tab[2, "rmean"]; s1 <- tab[2, "se(rmean)"]
  z <- qnorm(0.975)
  diff <- r1 - r0; sd <- sqrt(s0^2 + s1^2)
  lr <- log(r1) - log(r0); slr <- sqrt(s1^2 / r1^2 + s0^2 / r0^2)
  ll <- log(tau - r1) - log(tau - r0); sll <- sqrt(s1^2 / (tau - r1)^2 + s0^2 / (tau - r0)^2)
  list(name = name, time = time, status = status, arm = arm, tau = tau,
       rmean = unname(c(r0, r1)), se = unname(c(s0, s1)),
       diff = unname(c(diff, diff - z * sd, diff + z * sd, 2 * pnorm(-abs(diff / sd)))),
       ratio = unname(c(exp(lr), exp(lr - z * slr), exp(lr + z * slr), 2 * pnorm(-abs(lr / slr)))),
       rmtl = unname(c(exp(ll), exp(ll - z * sll), exp(ll + z * sll), 2 * pnorm(-abs(ll / sll)))))
}
aml <- survival::aml
vet <- survival::veteran
lung <- survival::lung
rmst_cases <- list(
  rmst_case("aml", aml$time, aml$status, as.integer(aml$x == "Nonmaintained"), 40),
  rmst_case("veteran", vet$time, vet$status, vet$trt - 1, 365),
  rmst_case("lung", lung$time, lung$status - 1, lung$sex - 1, 730)
)

# Simon-Makuch on the heart transplant data: transplant is the group that changes
h <- survival::heart
h$transplant <- as.character(h$transplant)
km_case <- function(name, data, conf) {
  sf <- survfit(Surv(start, stop, event) ~ transplant, data = data, conf.type = conf)
  strata <- rep(names(sf$strata), sf$strata)
  list(name = name, conf = conf, start = data$start, stop = data$stop, event = data$event,
       group = data$transplant, strata = sub("transplant=", "", strata), time = sf$time,
       n_risk = sf$n.risk, n_event = sf$n.event, n_censor = sf$n.censor, surv = sf$surv,
       std_err = sf$std.err, lower = sf$lower, upper = sf$upper)
}
sm <- list(km_case("heart_log", h, "log"), km_case("heart_loglog", h, "log-log"))
pooled <- survfit(Surv(start, stop, event) ~ 1, data = h, conf.type = "log")
sm_pooled <- list(time = pooled$time, n_risk = pooled$n.risk, surv = pooled$surv,
                  std_err = pooled$std.err, lower = pooled$lower, upper = pooled$upper)
write_json(list(rmst = rmst_cases, simon_makuch = sm, pooled = sm_pooled), out, digits = NA,
           auto_unbox = TRUE, na = "null")
