# Reference values for cartscope.stats.firth_cox (tests/stats/test_firth_cox.py).
# No R package for Firth-penalised Cox regression is in Debian (coxphf is not packaged), so the
# penalised partial likelihood l*(beta) = l(beta) + 1/2 log det I(beta) is built here from R
# survival's own log partial likelihood and information (coxph.fit at init = beta with
# iter.max = 0) and maximised numerically (optimize / optim), its profile inverted by uniroot.
# Usage: Rscript --vanilla firth_cox.R out.json
suppressPackageStartupMessages({library(jsonlite); library(survival)})
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("firth_cox.json")

penal <- function(X, y, ties, strata = NULL) {
  storage.mode(X) <- "double"
  function(beta) {
    f <- suppressWarnings(coxph.fit(X, y, strata = strata, offset = NULL, init = beta,
      control = coxph.control(iter.max = 0), weights = NULL, method = ties, rownames = NULL))
    info <- tryCatch(solve(f$var), error = function(e) NULL)  # singular far out: no information
    if (is.null(info)) return(-1e10)
    f$loglik[2] + 0.5 * as.numeric(determinant(info, logarithm = TRUE)$modulus)
  }
}
q <- qchisq(0.95, 1)

one_covariate <- function(name, time, event, x, ties, strata = NULL) {
  y <- Surv(time, event); X <- matrix(x, ncol = 1)
  pl <- penal(X, y, ties, strata)
  opt <- optimize(pl, c(-20, 20), maximum = TRUE, tol = 1e-12)
  b <- opt$maximum; top <- opt$objective
  g <- function(v) 2 * (top - pl(v)) - q
  lo <- uniroot(g, c(b - 30, b), tol = 1e-12)$root
  hi <- uniroot(g, c(b, b + 30), tol = 1e-12)$root
  list(name = name, time = time, event = event, x = x, ties = ties,
       strata = if (is.null(strata)) "none" else strata, estimate = b,
       penalized_loglik = top, ci = c(lo, hi), pl_test = 2 * (top - pl(0)))
}

cases <- list()
cases[[1]] <- one_covariate("coxphf_example", c(1, 2, 3), c(1, 1, 1), c(1, 1, 0), "breslow")
# a product arm without any event (monotone likelihood), tied times
set.seed(20261201)
tt <- round(rexp(30, 1 / 200)); arm <- rep(c(0, 1), each = 15)
ev <- c(rbinom(15, 1, 0.7), rep(0, 15)); tt[1:3] <- tt[4]
cases[[2]] <- one_covariate("no_event_arm_breslow", tt, ev, arm, "breslow")
cases[[3]] <- one_covariate("no_event_arm_efron", tt, ev, arm, "efron")
# two strata (separate baseline hazards)
stt <- rep(c(1L, 2L), 15)
cases[[4]] <- one_covariate("no_event_arm_strata", tt, ev, arm, "efron", stt)

# two covariates (the arm and age), Efron: optim for the estimate, nested optimize for the
# profile of the arm coefficient
age <- round(rnorm(30, 60, 8))
X2 <- cbind(arm, age); y2 <- Surv(tt, ev)
pl2 <- penal(X2, y2, "efron")
o2 <- optim(c(0, 0), function(b) -pl2(b), method = "BFGS",
            control = list(reltol = 1e-16, maxit = 2000, parscale = c(1, 0.05)))
o2 <- optim(o2$par, function(b) -pl2(b), method = "Nelder-Mead",
            control = list(reltol = 1e-16, maxit = 5000))
top2 <- -o2$value
prof <- function(v) optimize(function(a) pl2(c(v, a)), c(-1, 1), maximum = TRUE, tol = 1e-12)$objective
g2 <- function(v) 2 * (top2 - prof(v)) - q
b2 <- o2$par[1]
two <- list(time = tt, event = ev, arm = arm, age = age, estimate = o2$par, penalized_loglik = top2,
            ci_arm = c(uniroot(g2, c(b2 - 10, b2), tol = 1e-10)$root,
                       uniroot(g2, c(b2, b2 + 10), tol = 1e-10)$root))

# Heinze & Schemper (2001)'s breast cancer data (100 patients, grading G has no event in one
# level: monotone likelihood); the data set of R package coxphf
d <- read.csv(file.path(script_dir, "..", "data", "heinze_schemper_2001_breast.csv"))
X4 <- as.matrix(d[, c("T", "N", "G", "CD")]); y4 <- Surv(d$TIME, d$CENS)
pl4 <- penal(X4, y4, "breslow")
o4 <- optim(rep(0, 4), function(b) -pl4(b), method = "BFGS", control = list(reltol = 1e-16, maxit = 2000))
ml4 <- suppressWarnings(coxph(Surv(TIME, CENS) ~ T + N + G + CD, data = d, ties = "breslow"))
breast <- list(estimate = o4$par, penalized_loglik = -o4$value,
               loglik_at = list(beta = c(1.224, 0.9189, 2.424, 0.3971),
                                loglik = suppressWarnings(coxph.fit(X4 + 0, y4, NULL, NULL,
                                  c(1.224, 0.9189, 2.424, 0.3971), coxph.control(iter.max = 0),
                                  NULL, "breslow", NULL))$loglik[2]),
               ml_coef = unname(coef(ml4)))

res <- list(cases = cases, two = two, breast = breast)
writeLines(toJSON(as17(res), auto_unbox = TRUE, digits = NA), out)
