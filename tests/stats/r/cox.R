# Reference values for cartscope.stats.cox: survival::coxph and survival::cox.zph.
# Usage: Rscript --vanilla cox.R out.json
# Every case writes the exact data R used (rows with NA dropped), so the Python side fits
# the same numbers. Factors are written as strings together with their levels.
suppressPackageStartupMessages({
  library(survival)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[[1]] else "cox.json"

chisq_test <- function(stat, df) {
  unname(c(stat, df, pchisq(stat, df, lower.tail = FALSE)))
}

fit_summary <- function(fit) {
  s <- summary(fit)
  zph <- lapply(c("km", "rank", "identity"), function(tr) {
    z <- cox.zph(fit, transform = tr)
    list(
      terms = rownames(z$table),
      chisq = unname(z$table[, "chisq"]),
      df = unname(z$table[, "df"]),
      p = unname(z$table[, "p"]),
      x = unname(z$x),
      time = unname(z$time),
      y = unname(z$y),
      var = unname(z$var)
    )
  })
  names(zph) <- c("km", "rank", "identity")
  list(
    names = names(coef(fit)),
    coef = unname(coef(fit)),
    se = unname(sqrt(diag(fit$var))),
    var = unname(fit$var),
    hazard_ratio = unname(s$conf.int[, "exp(coef)"]),
    ci_lower = unname(s$conf.int[, "lower .95"]),
    ci_upper = unname(s$conf.int[, "upper .95"]),
    z = unname(s$coefficients[, "z"]),
    p = unname(s$coefficients[, "Pr(>|z|)"]),
    loglik = unname(fit$loglik),
    # summary() rounds the statistics it prints; take them unrounded from the fit
    lr = chisq_test(2 * diff(fit$loglik), length(coef(fit))),
    wald = chisq_test(fit$wald.test, length(coef(fit))),
    score = chisq_test(fit$score, length(coef(fit))),
    concordance = unname(s$concordance),
    concordant = unname(fit$concordance[c("concordant", "discordant", "tied.x")]),
    iter = fit$iter,
    zph = zph
  )
}

make_case <- function(name, data, covars, factors = character(0), strata_expr = NULL) {
  rhs <- paste(covars, collapse = " + ")
  if (!is.null(strata_expr)) rhs <- paste0(rhs, " + strata(", strata_expr, ")")
  form <- as.formula(paste("Surv(time, status) ~", rhs))
  fits <- lapply(c("efron", "breslow"), function(ties) {
    fit_summary(coxph(form, data = data, ties = ties))
  })
  names(fits) <- c("efron", "breslow")
  cols <- lapply(covars, function(v) {
    if (is.factor(data[[v]])) as.character(data[[v]]) else data[[v]]
  })
  names(cols) <- covars
  lev <- lapply(factors, function(v) levels(data[[v]]))
  names(lev) <- factors
  strata <- if (is.null(strata_expr)) NULL else {
    as.character(eval(parse(text = strata_expr), data))
  }
  list(
    name = name, formula = deparse(form), time = data$time, status = data$status,
    covariates = cols, factors = lev, strata = strata, fits = fits
  )
}

cases <- list()

# lung: status 1/2 recoded 0/1; the complete cases of the model's columns
lung2 <- na.omit(lung[, c("time", "status", "age", "sex", "ph.ecog")])
lung2$status <- lung2$status - 1
cases$lung <- make_case("lung", lung2, c("age", "sex", "ph.ecog"))

# veteran: celltype is a factor (reference squamous); then stratified by karno > 70
vet <- veteran
cases$veteran <- make_case("veteran", vet, c("trt", "celltype", "karno", "age"), "celltype")
cases$veteran_strata <- make_case(
  "veteran_strata", vet, c("trt", "celltype", "age"), "celltype", "karno > 70"
)

# colon, death endpoint: a larger case with a 3-level factor
col2 <- colon[colon$etype == 2, c("time", "status", "rx", "sex", "age", "nodes", "extent")]
col2 <- na.omit(col2)
cases$colon <- make_case("colon", col2, c("rx", "sex", "age", "nodes", "extent"), "rx")

# random data with heavy ties (20 distinct times for 400 patients) and 3 strata
set.seed(20240611)
n <- 400
rnd <- data.frame(
  time = sample(1:20, n, replace = TRUE),
  status = rbinom(n, 1, 0.7),
  x1 = round(rnorm(n), 3),
  x2 = rbinom(n, 1, 0.4),
  x3 = round(runif(n, 0, 5), 2),
  grp = sample(c("a", "b", "c"), n, replace = TRUE)
)
cases$ties <- make_case("ties", rnd, c("x1", "x2", "x3"))
cases$ties_strata <- make_case("ties_strata", rnd, c("x1", "x2", "x3"), strata_expr = "grp")

# the same times blurred by rounding-size noise: coxph merges them back (timefix)
near <- rnd
near$time <- near$time * (1 + 1e-10 * (seq_len(n) %% 2))
cases$near_ties <- make_case("near_ties", near, c("x1", "x2", "x3"))

# monotone likelihood: no events when z == 1, so its coefficient runs to -Inf
set.seed(7)
sep <- data.frame(time = rexp(60), z = rep(0:1, 30), w = rnorm(60))
sep$status <- ifelse(sep$z == 1, 0, 1)
warned <- FALSE
invisible(withCallingHandlers(
  coxph(Surv(time, status) ~ z + w, data = sep),
  warning = function(w) {
    if (grepl("Loglik converged before variable", conditionMessage(w))) warned <<- TRUE
    invokeRestart("muffleWarning")
  }
))
separation <- list(time = sep$time, status = sep$status, z = sep$z, w = sep$w, warned = warned)

write_json(
  list(survival_version = as.character(packageVersion("survival")), cases = unname(cases),
       separation = separation),
  out, digits = NA, auto_unbox = TRUE, na = "null", matrix = "rowmajor"
)
