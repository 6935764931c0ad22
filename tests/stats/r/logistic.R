# Reference values for cartscope.stats.logistic (tests/stats/test_logistic.py): glm(family =
# binomial) with summary, confint (MASS profile method), drop1 and anova from R's stats/MASS,
# exact profile-likelihood limits by uniroot on offset fits, brglm2::brglmFit(type = "AS_mean")
# (Firth) and brglm2::check_infinite_estimates under separation.
# Firth's penalised-likelihood-ratio limits are checked against a direct numerical profile of
# the penalised likelihood written out here (logistf is not packaged in Debian).
# Usage: Rscript --vanilla logistic.R out.json
# Every case carries its data; doubles are written with 17 significant digits.
suppressPackageStartupMessages({library(jsonlite); library(MASS); library(brglm2)})
source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
out <- out_path("logistic.json")

tight <- glm.control(epsilon = 1e-14, maxit = 200)

# exact profile-likelihood limit of coefficient j: deviance of the fit with beta_j fixed at v
# (an offset) minus the minimum equals qchisq(level, 1)
exact_profile <- function(X, y, fit, level) {
  b <- coef(fit); se <- sqrt(diag(vcov(fit))); q <- qchisq(level, 1); d0 <- deviance(fit)
  sapply(seq_along(b), function(j) {
    f <- function(v) {
      off <- v * X[, j]
      Xr <- X[, -j, drop = FALSE]
      dv <- if (ncol(Xr) == 0) {
        mu <- plogis(off); -2 * sum(y * log(mu) + (1 - y) * log(1 - mu))
      } else deviance(glm.fit(Xr, y, offset = off, family = binomial(), control = tight))
      dv - d0 - q
    }
    lo <- uniroot(f, c(b[j] - 10 * se[j], b[j]), tol = 1e-13, maxiter = 1000)$root
    hi <- uniroot(f, c(b[j], b[j] + 10 * se[j]), tol = 1e-13, maxiter = 1000)$root
    c(lo, hi)
  })
}

cases <- list()
addl <- function(name, data, formula, level = 0.95) {
  # refitted from its own estimate, so that the final weights (hence vcov) are those at the
  # estimate rather than at the iterate before it
  fit0 <- glm(formula, data = data, family = binomial(), control = tight)
  fit <- glm(formula, data = data, family = binomial(), control = tight, start = coef(fit0))
  fit_default <- glm(formula, data = data, family = binomial())
  X <- model.matrix(fit); y <- fit$y
  s <- summary(fit)$coefficients
  ci <- suppressMessages(confint(fit, level = level))
  ex <- exact_profile(X, y, fit, level)
  d1 <- drop1(fit, test = "Chisq")
  assign <- attr(X, "assign"); labels <- attr(terms(fit), "term.labels")
  wald <- lapply(seq_along(labels), function(k) {
    idx <- which(assign == k); b <- coef(fit)[idx]
    list(term = labels[k], df = length(idx),
         chisq = drop(t(b) %*% solve(vcov(fit)[idx, idx, drop = FALSE]) %*% b))
  })
  fr <- glm(formula, data = data, family = binomial(), method = "brglmFit", type = "AS_mean",
            control = brglmControl(epsilon = 1e-14, maxit = 1000))
  cases[[length(cases) + 1]] <<- list(
    name = name, data = as.list(data), level = level, names = colnames(X),
    estimate = unname(coef(fit)), se = unname(s[, 2]), z = unname(s[, 3]), p = unname(s[, 4]),
    estimate_default = unname(coef(fit_default)),
    confint = unname(ci), exact = t(ex), wald_ci = unname(confint.default(fit, level = level)),
    drop1_terms = rownames(d1)[-1], drop1_lrt = unname(d1$LRT[-1]), drop1_p = unname(d1[-1, 5]),
    wald_terms = wald, deviance = deviance(fit), null_deviance = fit$null.deviance,
    aic = AIC(fit), loglik = as.numeric(logLik(fit)),
    firth_estimate = unname(coef(fr)), firth_se = unname(sqrt(diag(vcov(fr)))))
}
set.seed(20261201)
n <- 60
d1 <- data.frame(ldh = round(rlnorm(n, 5.5, 0.5)), tp53 = sample(c("wt", "mut"), n, TRUE),
                 stage = sample(c("I-II", "III", "IV"), n, TRUE, prob = c(0.3, 0.3, 0.4)))
lp <- 2 - 0.004 * d1$ldh - 1.2 * (d1$tp53 == "mut") + 0.4 * (d1$stage == "IV")
d1$cr <- rbinom(n, 1, plogis(lp))
addl("mixed", d1, cr ~ ldh + tp53 + stage)
addl("mixed_90", d1, cr ~ ldh + tp53 + stage, level = 0.9)
addl("univariable", d1, cr ~ ldh)
addl("factor_only", d1, cr ~ stage)
d2 <- data.frame(cmax = round(rlnorm(35, 3, 1), 1), age = round(rnorm(35, 60, 10)))
d2$resp <- rbinom(35, 1, plogis(-3 + 0.9 * log(d2$cmax)))
addl("small_two_numeric", d2, resp ~ log(cmax) + age)
d2$logcmax <- log(d2$cmax)

# quasi-complete separation: every mutated patient fails, brglm2 Firth fit and the R fit
sep <- data.frame(tp53 = c(rep("mut", 6), rep("wt", 20)),
                  ldh = c(310, 250, 420, 198, 505, 233, 180, 240, 215, 390, 205, 260, 330, 175,
                          290, 188, 222, 410, 268, 199, 301, 245, 213, 350, 190, 275),
                  cr = c(rep(0, 6), 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 1))
sfit <- suppressWarnings(glm(cr ~ tp53 + ldh, data = sep, family = binomial()))
se_at <- function(m) sqrt(diag(vcov(suppressWarnings(glm(cr ~ tp53 + ldh, data = sep,
  family = binomial(), control = glm.control(epsilon = 1e-300, maxit = m))))))
se_ratio <- se_at(30) / se_at(10)
sfr <- glm(cr ~ tp53 + ldh, data = sep, family = binomial(), method = "brglmFit",
           type = "AS_mean", control = brglmControl(epsilon = 1e-14, maxit = 1000))
separation <- list(data = as.list(sep), names = names(coef(sfit)),
  estimate_default = unname(coef(sfit)), converged = sfit$converged,
  se_ratio = unname(se_ratio),
  firth_estimate = unname(coef(sfr)), firth_se = unname(sqrt(diag(vcov(sfr)))))

# brglm2's endometrial data (Heinze & Schemper 2002): NV quasi-completely separates HG
data("endometrial", package = "brglm2")
efr <- glm(HG ~ NV + PI + EH, data = endometrial, family = binomial(), method = "brglmFit",
           type = "AS_mean", control = brglmControl(epsilon = 1e-14, maxit = 1000))
endo <- list(data = as.list(endometrial), names = names(coef(efr)),
  firth_estimate = unname(coef(efr)), firth_se = unname(sqrt(diag(vcov(efr)))))

# Firth's penalised-likelihood-ratio limits (logistf's method; logistf is not in Debian): the
# penalised log likelihood written out, profiled by optim over the other coefficients, the
# limit found by uniroot
pl_limits <- function(X, y, beta, j, level = 0.95) {
  pl <- function(b) {
    eta <- drop(X %*% b); p <- plogis(eta)
    sum(y * plogis(eta, log.p = TRUE) + (1 - y) * plogis(-eta, log.p = TRUE)) +
      0.5 * as.numeric(determinant(crossprod(X * sqrt(p * (1 - p))), logarithm = TRUE)$modulus)
  }
  top <- pl(beta); q <- qchisq(level, 1)
  pr <- plogis(drop(X %*% beta))
  ses <- sqrt(diag(solve(crossprod(X * sqrt(pr * (1 - pr))))))
  se <- ses[j]
  prof <- function(v) {
    f <- function(bf) { b <- beta; b[-j] <- bf; b[j] <- v; -pl(b) }
    # parscale: the coefficients live on very different scales (LDH in U/L)
    o <- optim(beta[-j], f, method = "BFGS",
               control = list(reltol = 1e-15, maxit = 1000, parscale = ses[-j]))
    -o$value
  }
  g <- function(v) 2 * (top - prof(v)) - q
  c(uniroot(g, c(beta[j] - 8 * se, beta[j]), tol = 1e-10)$root,
    uniroot(g, c(beta[j], beta[j] + 8 * se), tol = 1e-10)$root)
}
Xe <- model.matrix(efr); ye <- endometrial$HG
endo$pl_nv <- pl_limits(Xe, ye, coef(efr), 2)
Xs <- model.matrix(sfr); ys <- sep$cr
separation$pl_tp53wt <- pl_limits(Xs, ys, coef(sfr), 2)

res <- list(cases = cases, separation = separation, endometrial = endo)
writeLines(toJSON(as17(res), auto_unbox = TRUE, matrix = "rowmajor", digits = NA), out)
