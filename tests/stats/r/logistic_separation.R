# Reference values for the Firth fit under complete separation by two covariates
# (tests/stats/test_logistic_separation.py): grade >= 3 CRS on log2 IL-6 and ferritin at day 7,
# 27 patients, both covariates separating the outcome. brglm2::brglmFit(type = "AS_mean")
# solves the modified score equations; here the penalised likelihood has two local maxima, and
# brglm2 reaches the one nearer its starting value. Written: the default fit and the fit
# started near the other maximum, each with its penalised log likelihood
# l + 1/2 log det(X'WX) (what logistf maximises; logistf is not packaged in Debian).
# Usage: Rscript --vanilla logistic_separation.R out.json
suppressPackageStartupMessages({library(jsonlite); library(brglm2)})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "logistic_separation.json"
d <- data.frame(
  crs3 = c(0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0),
  log2_il6_d7 = c(8.285402218862249, 5.491853096329675, 12.287712379549449, 2.321928094887362, 7.22881869049588, 11.167418145831737, 4.807354922057604, 8.714245517666123, 12.228818690495881, 3.584962500721156, 5.906890595608519, 8.994353436858859, 11.5980525001616, 2.321928094887362, 7.78135971352466, 3.0, 9.731319031025064, 12.287712379549449, 6.491853096329675, 9.321928094887362, 12.287712379549449, 2.321928094887362, 10.228818690495881, 5.129283016944966, 11.929258408636972, 9.129283016944967, 3.9068905956085187),
  ferritin_d7_1000 = c(1.85, 0.64, 9.8, 0.31, 1.4, 5.2, 0.72, 1.9, 12.4, 0.45, 0.8, 2.6, 6.1, 0.52, 1.3, 0.38, 3.4, 15.2, 0.95, 2.9, 28.5, 0.41, 4.1, 0.69, 8.8, 2.4, 0.5)
)
as17 <- function(x) sprintf("%.17g", x)
ctl <- brglmControl(epsilon = 1e-13, maxit = 500)
pen <- function(f) {
  X <- model.matrix(f); p <- fitted(f)
  y <- d$crs3
  sum(y * log(p) + (1 - y) * log1p(-p)) +
    0.5 * as.numeric(determinant(crossprod(X, X * (p * (1 - p))))$modulus)
}
fit <- function(start = NULL) suppressWarnings(glm(
  crs3 ~ log2_il6_d7 + ferritin_d7_1000, family = binomial, data = d, method = "brglmFit",
  type = "AS_mean", control = ctl, start = start))
f0 <- fit()
f1 <- fit(c(-25, 2.4, -0.1))
res <- function(f) list(estimate = as17(coef(f)), se = as17(sqrt(diag(vcov(f)))),
                        penalized_loglik = as17(pen(f)), converged = f$converged)
write_json(list(data = lapply(d, as17), default = res(f0), started = res(f1)), out, digits = NA, auto_unbox = TRUE)
