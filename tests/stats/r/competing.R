# Reference values for cartscope.stats.competing (tests/stats/test_competing.py).
# Usage: Rscript --vanilla competing.R out.json
# Writes the input data of every case next to R's answers, so Python reads exactly the
# same arrays: cmprsk::cuminc (curves and $Tests), cmprsk::timepoints and cmprsk::crr.
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "competing.json"

curves <- function(ci, groups, causes) {
  # one entry per (cause, group), in cuminc's order; full step-corner vectors
  res <- list()
  for (cc in causes) for (g in groups) {
    x <- ci[[paste(g, cc)]]
    res[[length(res) + 1]] <- list(group = g, cause = cc, time = x$time,
                                   est = x$est, var = x$var)
  }
  res
}

tests <- function(ci) {
  tt <- ci$Tests
  lapply(seq_len(nrow(tt)), function(i) list(
    cause = rownames(tt)[i], stat = tt[i, "stat"], pv = tt[i, "pv"], df = tt[i, "df"],
    pv_upper = pchisq(tt[i, "stat"], tt[i, "df"], lower.tail = FALSE)))
}

tp <- function(ci, times) {
  z <- timepoints(ci, times)
  # log(-log) interval as cmprsk users compute it (e.g. tidycmprsk, Pintilie 2006):
  # est^exp(+-z sqrt(var) / (est log est)); undefined where est is 0 or 1
  q <- qnorm(0.975)
  k <- q * sqrt(z$var) / (z$est * log(z$est))
  ok <- !is.na(z$est) & z$est > 0 & z$est < 1
  lo <- ifelse(ok, z$est^exp(-k), NA)
  up <- ifelse(ok, z$est^exp(k), NA)
  list(times = as.numeric(colnames(z$est)), rows = rownames(z$est),
       est = unname(z$est), var = unname(z$var), lower = unname(lo), upper = unname(up))
}

crr_fit <- function(time, status, cov, failcode) {
  f <- crr(time, status, cov, failcode = failcode)
  s <- summary(f)
  list(failcode = failcode, names = names(f$coef), coef = unname(f$coef),
       se = unname(sqrt(diag(f$var))), var = unname(f$var), inf = unname(f$inf),
       loglik = f$loglik, loglik_null = f$loglik.null, converged = f$converged,
       p = unname(2 * pnorm(-abs(f$coef) / sqrt(diag(f$var)))),
       ci_lower = unname(s$conf.int[, 3]), ci_upper = unname(s$conf.int[, 4]),
       score = unname(f$score))
}

cases <- list()

# 1. survival::mgus2, as in the survival package's competing-risks vignette
etime <- with(mgus2, ifelse(pstat == 0, futime, ptime))
event <- with(mgus2, ifelse(pstat == 0, 2 * death, 1))
sex <- as.character(mgus2$sex)
agegrp <- ifelse(mgus2$age >= 70, "70+", "<70")
ci <- cuminc(etime, event, sex)
ci_rho <- cuminc(etime, event, sex, rho = 1)
ci_str <- cuminc(etime, event, sex, strata = agegrp)
ci_all <- cuminc(etime, event)
cc <- complete.cases(mgus2[, c("age", "sex", "hgb", "mspike")])
d <- mgus2[cc, ]
mm <- model.matrix(~ age + sex + hgb + mspike, data = d)[, -1]
et2 <- etime[cc]; ev2 <- event[cc]
cases$mgus2 <- list(
  time = etime, cause = event, group = sex, strata = agegrp,
  curves = curves(ci, c("F", "M"), c("1", "2")),
  curves_ungrouped = curves(ci_all, "1", c("1", "2")),
  tests = tests(ci), tests_rho1 = tests(ci_rho), tests_strata = tests(ci_str),
  timepoints = tp(ci, c(0, 6, 12, 60, 120, 240, 360, 424, 1000)),
  crr_data = list(time = et2, cause = ev2, age = d$age, sex = as.character(d$sex),
                  hgb = d$hgb, mspike = d$mspike),
  crr = list(crr_fit(et2, ev2, mm, 1), crr_fit(et2, ev2, mm, 2)))

# 2. the cmprsk documentation's own simulated examples (?cuminc and ?crr)
set.seed(2)
ss <- rexp(100)
gg <- factor(sample(1:3, 100, replace = TRUE), 1:3, c("a", "b", "c"))
cc2 <- sample(0:2, 100, replace = TRUE)
strt <- sample(1:2, 100, replace = TRUE)
ci <- cuminc(ss, cc2, gg, strt)
ci_ns <- cuminc(ss, cc2, gg)
set.seed(10)
ftime <- rexp(200)
fstatus <- sample(0:2, 200, replace = TRUE)
cov <- matrix(runif(600), nrow = 200)
dimnames(cov)[[2]] <- c("x1", "x2", "x3")
cases$cmprsk_doc <- list(
  time = ss, cause = cc2, group = as.character(gg), strata = strt,
  curves = curves(ci, c("a", "b", "c"), c("1", "2")),
  tests_strata = tests(ci), tests = tests(ci_ns),
  timepoints = tp(ci, c(0.1, 0.5, 1, 2, 5)),
  crr_data = list(time = ftime, cause = fstatus, x = unname(cov)),
  crr = list(crr_fit(ftime, fstatus, cov, 1), crr_fit(ftime, fstatus, cov, 2)))

# 3. heavy ties, tiny groups, a singleton group, events and censoring at time 0,
#    ties of different causes at one time, a cause absent from one group
set.seed(20240611)
n <- 120
tt <- sample(0:12, n, replace = TRUE)
cs <- sample(0:3, n, replace = TRUE, prob = c(0.3, 0.3, 0.25, 0.15))
gr <- sample(c("a", "b", "c"), n, replace = TRUE, prob = c(0.45, 0.45, 0.10))
st <- sample(c("s1", "s2"), n, replace = TRUE)
# group "c": never cause 3; singleton group "d"; a tie of causes 1, 2, 3 and censoring at 5
cs[gr == "c" & cs == 3] <- 1
tt <- c(tt, 4, 5, 5, 5, 5)
cs <- c(cs, 2, 1, 2, 3, 0)
gr <- c(gr, "d", "a", "a", "a", "a")
st <- c(st, "s1", "s1", "s2", "s1", "s2")
x1 <- round(rnorm(length(tt)), 3)
x2 <- sample(c("low", "mid", "high"), length(tt), replace = TRUE)
x2f <- factor(x2, levels = c("high", "low", "mid"))
mm <- model.matrix(~ x1 + x2f)[, -1]
ci <- cuminc(tt, cs, gr)
ci_r <- cuminc(tt, cs, gr, st, rho = 0.5)
cases$ties <- list(
  time = tt, cause = cs, group = gr, strata = st,
  curves = curves(ci, c("a", "b", "c", "d"), c("1", "2", "3")),
  tests = tests(ci), tests_strata_rho = tests(ci_r),
  timepoints = tp(ci, c(-1, 0, 0.5, 3, 5, 11.99, 12, 13)),
  crr_data = list(time = tt, cause = cs, x1 = x1, x2 = x2),
  crr = list(crr_fit(tt, cs, mm, 1), crr_fit(tt, cs, mm, 2), crr_fit(tt, cs, mm, 3)))

# 4. a group censored before any event of cause 1: the score variance is singular and
#    cuminc reports the sentinel statistic -1 for that cause
ts <- c(5, 6, 7, 8, 1, 2, 3, 4, 6, 7)
cs <- c(1, 1, 2, 0, 0, 0, 1, 2, 1, 0)
gs <- c("a", "a", "a", "a", "b", "b", "c", "c", "c", "c")
cases$singular <- list(time = ts, cause = cs, group = gs, tests = tests(cuminc(ts, cs, gs)))

meta <- list(R = R.version.string, cmprsk = as.character(packageVersion("cmprsk")),
             survival = as.character(packageVersion("survival")))
write_json(list(meta = meta, cases = cases), out, digits = NA, auto_unbox = TRUE,
           na = "null", matrix = "rowmajor")
