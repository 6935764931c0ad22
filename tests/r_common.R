# Shared by the R scripts that compute the reference values beside the tests (tests/*/r/*.R),
# the R half of tests/r_json.py. A script sources it with its first line of code:
#   source(file.path(dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))), "..", "..", "r_common.R"))
# and is run as `Rscript --vanilla script.R out.json` (tests/conftest.py's r_reference).

# The folder of the running script (for data files beside it), "." when run interactively.
script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f)) else "."
})

# The JSON file to write: the first command-line argument, else `default`.
out_path <- function(default) {
  args <- commandArgs(trailingOnly = TRUE)
  if (length(args) >= 1) args[1] else default
}

# Doubles as strings with 17 significant digits (jsonlite stops at 15), so Python reads exactly
# the numbers R used; lists recursively, matrices keep their shape, NA stays "NA" (and NaN
# "NaN", Inf "Inf"); other types unchanged.
as17 <- function(x) {
  if (is.list(x)) return(lapply(x, as17))
  if (is.double(x)) {
    s <- sprintf("%.17g", x)
    s[is.na(x) & !is.nan(x)] <- "NA"
    dim(s) <- dim(x)
    return(s)
  }
  x
}
