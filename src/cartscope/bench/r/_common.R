# Shared helpers of the benchmark peers: argument parsing, package check, binary input and
# JSON output. Sourced by each case script; the data directory holds meta.json and one
# little-endian float64 file per array (matrices column by column, one marker after another).

bench_args <- commandArgs(trailingOnly = TRUE)
bench_data_dir <- bench_args[1]
bench_out <- bench_args[2]

bench_require <- function(packages) {
  missing <- packages[!vapply(packages, requireNamespace, logical(1), quietly = TRUE)]
  if (length(missing) > 0) {
    writeLines(paste0('{"missing": [', paste0('"', missing, '"', collapse = ", "), "]}"), bench_out)
    quit(save = "no", status = 0)
  }
  for (p in packages) suppressPackageStartupMessages(library(p, character.only = TRUE))
}

bench_meta <- function() {
  jsonlite::fromJSON(file.path(bench_data_dir, "meta.json"))
}

bench_read <- function(name, n) {
  con <- file(file.path(bench_data_dir, name), "rb")
  on.exit(close(con))
  readBin(con, "double", n = n, size = 8, endian = "little")
}

bench_elapsed <- function() proc.time()[["elapsed"]]

bench_write <- function(result, packages) {
  versions <- list(R = paste(R.version$major, R.version$minor, sep = "."))
  for (p in packages) versions[[p]] <- as.character(utils::packageVersion(p))
  result$versions <- versions
  jsonlite::write_json(result, bench_out, digits = NA, auto_unbox = TRUE)
}
