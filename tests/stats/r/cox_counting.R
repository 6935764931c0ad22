# Reference values for cartscope.stats.cox_counting and cartscope.stats.cox_predict:
# survival::coxph on (start, stop] data, robust (cluster) variance, ties = "exact", and
# survfit.coxph predicted curves for new covariate profiles.
# Usage: Rscript --vanilla cox_counting.R out.json
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else "cox_counting.json"

chisq_test <- function(stat, df) unname(c(stat, df, pchisq(stat, df, lower.tail = FALSE)))

fit_summary <- function(fit) {
  # summary() is not used: R's agexact.fit (ties = "exact" on (start, stop] data) returns an
  # object without the "coxph" class; everything is formed from the fit's own fields
  p <- length(coef(fit))
  robust <- !is.null(fit$naive.var)
  se <- sqrt(diag(fit$var))
  z <- qnorm(0.975)
  list(
    names = names(coef(fit)),
    coef = unname(coef(fit)),
    var = unname(fit$var),
    naive_var = if (robust) unname(fit$naive.var) else NULL,
    se = unname(se),
    ci_lower = unname(exp(coef(fit) - z * se)),
    ci_upper = unname(exp(coef(fit) + z * se)),
    p = unname(2 * pnorm(-abs(coef(fit) / se))),
    loglik = unname(fit$loglik),
    lr = chisq_test(2 * diff(fit$loglik), p),
    wald = chisq_test(fit$wald.test, p),
    score = chisq_test(fit$score, p),
    rscore = if (robust) chisq_test(fit$rscore, p) else NULL,
    concordance = unname(fit$concordance[c("concordance", "std")]),
    concordant = unname(fit$concordance[c("concordant", "discordant", "tied.x")]),
    iter = fit$iter
  )
}

curves <- function(fit, newdata) {
  sf <- survfit(fit, newdata = newdata)
  strata <- if (is.null(sf$strata)) rep("all", length(sf$time)) else
    rep(names(sf$strata), sf$strata)
  m <- function(v) unname(as.matrix(v))
  list(
    time = sf$time, strata = strata, n_risk = sf$n.risk, n_event = sf$n.event,
    surv = m(sf$surv), std_err = m(sf$std.err), cumhaz = m(sf$cumhaz),
    lower = m(sf$lower), upper = m(sf$upper)
  )
}

# --- data sets -----------------------------------------------------------------------------
heart_d <- survival::heart
heart_d$id <- as.character(heart_d$id)
heart_d$transplant <- as.numeric(as.character(heart_d$transplant))

# a tied counting-process set: 40 patients, a treatment that starts during follow-up,
# integer days so that deaths tie
set.seed(20261201)
n <- 40
ptid <- sprintf("p%02d", 1:n)
age <- round(rnorm(n, 60, 10))
futime <- pmax(1, round(rexp(n, 1 / 60) / 4) * 4)
status <- rbinom(n, 1, 0.75)
switch_day <- ifelse(runif(n) < 0.5, round(runif(n, 0, 1) * futime), NA)
base <- data.frame(id = ptid, age = age, futime = futime, status = status)
tied <- tmerge(base, base, id = id, death = event(futime, status))
tied <- tmerge(tied, data.frame(id = ptid[!is.na(switch_day) & switch_day > 0],
                                day = switch_day[!is.na(switch_day) & switch_day > 0]),
               id = id, treated = tdc(day))
tied$group <- ifelse(seq_len(nrow(tied)) %% 2 == 0, "a", "b")
tied <- tied[, c("id", "tstart", "tstop", "death", "age", "treated", "group")]

lung_d <- na.omit(survival::lung[, c("time", "status", "age", "sex", "ph.ecog")])
lung_d$status <- lung_d$status - 1
vet <- survival::veteran

cases <- list()
add <- function(name, fit, data, start, stop, event, covs, strata = NULL, cluster = NULL,
                robust = FALSE, newdata = NULL) {
  entry <- list(
    name = name, ties = ties,
    start = if (is.null(start)) NULL else data[[start]],
    stop = data[[stop]], event = data[[event]],
    covariates = lapply(data[covs], function(v) if (is.factor(v)) as.character(v) else v),
    strata = if (is.null(strata)) NULL else as.character(data[[strata]]),
    cluster = if (is.null(cluster)) NULL else as.character(data[[cluster]]),
    robust = robust,
    fit = fit_summary(fit)
  )
  if (!is.null(newdata) && inherits(fit, "coxph")) {
    entry$newdata <- as.list(newdata)
    entry$curves <- curves(fit, newdata)
  }
  cases[[length(cases) + 1]] <<- entry
}

hnew <- data.frame(age = c(-10, 5), surgery = c(0, 1), transplant = c(0, 1))
for (ties in c("efron", "breslow", "exact")) {
  f <- coxph(Surv(start, stop, event) ~ age + surgery + transplant, data = heart_d, ties = ties)
  add(paste0("heart_", ties), f, heart_d, "start", "stop", "event",
      c("age", "surgery", "transplant"), newdata = hnew)
  # R has no dfbeta residuals for ties = "exact", hence no robust variance there
  if (ties != "exact") {
  f <- coxph(Surv(start, stop, event) ~ age + surgery + transplant, data = heart_d, ties = ties,
             cluster = id)
  add(paste0("heart_cluster_", ties), f, heart_d, "start", "stop", "event",
      c("age", "surgery", "transplant"), cluster = "id", robust = TRUE, newdata = hnew)
  }
  f <- coxph(Surv(start, stop, event) ~ age + transplant + strata(surgery), data = heart_d,
             ties = ties)
  add(paste0("heart_strata_", ties), f, heart_d, "start", "stop", "event",
      c("age", "transplant"), strata = "surgery",
      newdata = data.frame(age = c(0, 10), transplant = c(1, 0)))
  if (ties != "exact") {
    f <- coxph(Surv(tstart, tstop, death) ~ age + treated, data = tied, ties = ties, cluster = id)
    add(paste0("tied_cluster_", ties), f, tied, "tstart", "tstop", "death", c("age", "treated"),
        cluster = "id", robust = TRUE, newdata = data.frame(age = c(50, 70), treated = c(0, 1)))
  } else {
    f <- coxph(Surv(tstart, tstop, death) ~ age + treated, data = tied, ties = ties)
    add("tied_exact", f, tied, "tstart", "tstop", "death", c("age", "treated"))
  }
  f <- coxph(Surv(tstart, tstop, death) ~ age + treated + strata(group), data = tied,
             ties = ties)
  add(paste0("tied_strata_", ties), f, tied, "tstart", "tstop", "death", c("age", "treated"),
      strata = "group", newdata = data.frame(age = 60, treated = 1))
  f <- coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung_d, ties = ties)
  add(paste0("lung_", ties), f, lung_d, NULL, "time", "status", c("age", "sex", "ph.ecog"),
      newdata = data.frame(age = c(50, 70), sex = c(1, 2), ph.ecog = c(0, 2)))
  if (ties != "exact") {
    f <- coxph(Surv(time, status) ~ trt + karno + age, data = vet, ties = ties, robust = TRUE)
    add(paste0("veteran_robust_", ties), f, vet, NULL, "time", "status",
        c("trt", "karno", "age"), robust = TRUE)
  }
}

# adjusted (direct-adjusted) curves: the mean over the cohort of each patient's predicted
# curve with the exposure set to each level
fa <- coxph(Surv(time, status) ~ age + sex + ph.ecog, data = lung_d)
adjusted <- lapply(c(1, 2), function(level) {
  nd <- lung_d
  nd$sex <- level
  sf <- survfit(fa, newdata = nd)
  list(level = level, time = sf$time, surv = rowMeans(sf$surv))
})

write_json(
  list(cases = cases, adjusted = list(covariates = c("age", "sex", "ph.ecog"),
                                      exposure = "sex", curves = adjusted)),
  out, digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor"
)
