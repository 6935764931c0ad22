# Reference Kaplan-Meier results from the survival package, written as JSON.
# Usage: Rscript --vanilla km.R out.json
# Every case carries the exact time/event arrays R used, so the Python side reads the same data.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)

cases <- list()
add_case <- function(name, time, event) {
  cases[[length(cases) + 1]] <<- list(name = name, time = as.numeric(time), event = as.integer(event))
}

# survival package data sets (event = death; rows with missing values dropped)
add_case("lung", lung$time, lung$status == 2)
fem <- lung[lung$sex == 2, ]
add_case("lung_female", fem$time, fem$status == 2)
add_case("veteran", veteran$time, veteran$status)
add_case("pbc_death", pbc$time, pbc$status == 2)
cd <- colon[colon$etype == 2, ]
add_case("colon_death", cd$time, cd$status)

# random data with heavy ties and a small sample
set.seed(20240917)
add_case("ties_200", sample(1:30, 200, replace = TRUE), rbinom(200, 1, 0.6))
add_case("ties_7", sample(1:4, 7, replace = TRUE), rbinom(7, 1, 0.5))
add_case("continuous_500", round(rexp(500, 1 / 400), 3), rbinom(500, 1, 0.7))

# median rules and edge cases
add_case("exact_half_then_drop", 1:10, rep(1, 10))
add_case("exact_half_then_censored", c(1, 2, 3, 4), c(1, 1, 0, 0))
add_case("all_censored", c(3, 5, 5, 9), c(0, 0, 0, 0))
add_case("single_event", 5, 1)
add_case("single_censored", 5, 0)
add_case("events_at_zero", c(0, 0, 0, 2, 4, 4, 7), c(1, 1, 0, 1, 1, 0, 0))
add_case("tied_event_censor", c(2, 2, 2, 3, 5, 5, 8), c(1, 0, 1, 1, 1, 0, 1))
add_case("two_patients", c(4, 9), c(1, 1))
add_case("all_events_last_censored_first", c(1, 3, 3, 6), c(0, 1, 1, 1))

numlist <- function(x) as.numeric(x)

result_for <- function(time, event, conf_type) {
  fit <- survfit(Surv(time, event) ~ 1, conf.type = conf_type)
  tab <- summary(fit)$table
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  # times to read the curve at: before the first time, at observed times, between them
  tmax <- max(time)
  at <- sort(unique(c(0, min(time) / 2, quantile(time, c(0.1, 0.33, 0.5, 0.77, 1), type = 1),
                      tmax / 3 + 0.5)))
  at <- at[at <= tmax]
  sm <- summary(fit, times = at)
  # risk table including times past the end
  rt_times <- sort(unique(c(at, tmax + 1)))
  rt <- summary(fit, times = rt_times, extend = TRUE)
  taus <- unique(quantile(time, c(0.5, 0.9, 1), type = 1))
  taus <- c(taus, tmax + 10)
  taus <- taus[taus >= min(time) & taus > 0]
  rm <- lapply(taus, function(tau) summary(fit, rmean = tau)$table[c("rmean", "se(rmean)")])
  rev <- survfit(Surv(time, 1 - event) ~ 1, conf.type = conf_type)
  rtab <- summary(rev)$table
  list(
    conf_type = conf_type,
    table = list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
                 n_censor = fit$n.censor, surv = fit$surv, std_err = fit$std.err,
                 lower = fit$lower, upper = fit$upper),
    median = numlist(tab["median"]),
    median_lower = numlist(tab[paste0(fit$conf.int, "LCL")]),
    median_upper = numlist(tab[paste0(fit$conf.int, "UCL")]),
    quantile = list(probs = c(0.25, 0.5, 0.75), time = numlist(q$quantile),
                    lower = numlist(q$lower), upper = numlist(q$upper)),
    at = list(time = sm$time, surv = sm$surv, std_err = sm$std.err, lower = sm$lower,
              upper = sm$upper, n_risk = sm$n.risk),
    risk = list(time = rt$time, n_risk = rt$n.risk, cum_events = cumsum(rt$n.event),
                cum_censored = cumsum(rt$n.censor)),
    rmean = list(tau = taus, rmean = vapply(rm, function(r) r[[1]], 1.0),
                 se = vapply(rm, function(r) r[[2]], 1.0)),
    followup = list(median = numlist(rtab["median"]),
                    lower = numlist(rtab[paste0(fit$conf.int, "LCL")]),
                    upper = numlist(rtab[paste0(fit$conf.int, "UCL")]))
  )
}

out <- lapply(cases, function(cs) {
  cs$results <- lapply(c("plain", "log", "log-log"), function(ct) result_for(cs$time, cs$event, ct))
  cs
})
write_json(out, args[1], digits = NA, auto_unbox = FALSE, na = "string")
