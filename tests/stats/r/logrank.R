# Reference log-rank / Fleming-Harrington tests (survival::survdiff) and the trend test, as JSON.
# Usage: Rscript --vanilla logrank.R out.json
# Every case carries the exact arrays R used (rows with missing values dropped here, in R).
# The trend test is computed from survdiff's own pieces: U = sum(s * (O - E)), V = s' var s,
# chisq = U^2 / V on 1 df, with O - E summed over strata and s the sorted distinct group scores.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)

cases <- list()
add_case <- function(name, time, event, group, strata = NULL, rhos = c(0, 1, 0.5), trend = FALSE) {
  keep <- !is.na(time) & !is.na(event) & !is.na(group)
  if (!is.null(strata)) keep <- keep & !is.na(strata)
  cs <- list(name = name, time = as.numeric(time[keep]), event = as.integer(event[keep]),
             group = as.numeric(group[keep]), rhos = rhos, trend = trend)
  if (!is.null(strata)) cs$strata <- as.numeric(strata[keep])
  cases[[length(cases) + 1]] <<- cs
}

add_case("lung_sex", lung$time, lung$status == 2, lung$sex)
add_case("lung_ecog", lung$time, lung$status == 2, lung$ph.ecog, trend = TRUE)  # ecog 3: one patient
add_case("lung_sex_by_ecog", lung$time, lung$status == 2, lung$sex, strata = lung$ph.ecog)
add_case("lung_ecog_by_sex", lung$time, lung$status == 2, lung$ph.ecog, strata = lung$sex, trend = TRUE)
add_case("veteran_celltype_by_trt", veteran$time, veteran$status, as.integer(veteran$celltype),
         strata = veteran$trt)
add_case("pbc_trt", pbc$time, pbc$status == 2, pbc$trt)
add_case("pbc_edema", pbc$time, pbc$status == 2, pbc$edema, trend = TRUE)  # scores 0, 0.5, 1
add_case("pbc_stage_by_sex", pbc$time, pbc$status == 2, pbc$stage,
         strata = as.integer(pbc$sex), trend = TRUE)
cd <- colon[colon$etype == 2, ]
add_case("colon_rx_by_sex", cd$time, cd$status, as.integer(cd$rx), strata = cd$sex)
add_case("colon_differ", cd$time, cd$status, cd$differ, trend = TRUE)

set.seed(20240917)
n <- 60
add_case("random_ties_tiny_groups", sample(1:10, n, replace = TRUE), rbinom(n, 1, 0.5),
         sample(1:3, n, replace = TRUE, prob = c(0.8, 0.15, 0.05)),
         strata = sample(1:2, n, replace = TRUE), trend = TRUE)
n <- 300
add_case("random_ties_4groups", sample(1:25, n, replace = TRUE), rbinom(n, 1, 0.4),
         sample(c(1, 2, 5, 9), n, replace = TRUE), trend = TRUE)

# edge cases
add_case("no_events_in_a_group", c(1, 3, 4, 6, 2, 5, 7, 8), c(1, 1, 0, 1, 0, 0, 0, 0),
         c(1, 1, 1, 1, 2, 2, 2, 2), trend = TRUE)
add_case("group_gone_before_first_event", c(5, 6, 7, 1, 2, 3, 8), c(1, 1, 1, 0, 0, 1, 0),
         c(1, 1, 1, 2, 2, 3, 3))
add_case("two_patients", c(1, 2), c(1, 1), c(1, 2), trend = TRUE)
add_case("three_patients", c(1, 2, 2), c(1, 1, 0), c(1, 2, 2))
add_case("events_at_zero", c(0, 0, 1, 3, 0, 2, 2, 4), c(1, 0, 1, 1, 1, 1, 0, 1),
         c(1, 1, 1, 1, 2, 2, 2, 2), trend = TRUE)
add_case("tied_event_censor", c(2, 2, 2, 3, 5, 2, 2, 5, 5, 8), c(1, 0, 1, 1, 0, 1, 0, 1, 0, 1),
         c(1, 1, 1, 1, 1, 2, 2, 2, 2, 2))
add_case("stratum_everyone_dies", c(1, 2, 3, 4, 5, 6), c(1, 1, 1, 1, 0, 1), c(1, 2, 1, 2, 1, 2),
         strata = c(1, 1, 2, 2, 2, 2))

run <- function(cs, rho) {
  if (is.null(cs$strata)) {
    fit <- survdiff(Surv(cs$time, cs$event) ~ cs$group, rho = rho)
  } else {
    st <- cs$strata
    fit <- survdiff(Surv(cs$time, cs$event) ~ cs$group + strata(st), rho = rho)
  }
  o <- if (is.matrix(fit$obs)) rowSums(fit$obs) else fit$obs
  e <- if (is.matrix(fit$exp)) rowSums(fit$exp) else fit$exp
  out <- list(rho = rho, n = as.numeric(fit$n), observed = o, expected = e,
              variance = as.numeric(fit$var), chisq = fit$chisq, df = sum(e > 0) - 1,
              pvalue = fit$pvalue)
  if (cs$trend && rho == 0) {
    s <- sort(unique(cs$group))
    u <- sum(s * (o - e))
    v <- as.numeric(t(s) %*% fit$var %*% s)
    out$trend <- list(scores = s, u = u, var = v, chisq = u^2 / v,
                      pvalue = pchisq(u^2 / v, 1, lower.tail = FALSE))
  }
  out
}

out <- lapply(cases, function(cs) {
  cs$results <- lapply(cs$rhos, function(rho) run(cs, rho))
  cs
})
write_json(out, args[1], digits = NA, auto_unbox = FALSE, na = "string")
