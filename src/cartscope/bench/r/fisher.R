# fisher.test on each Table 1 shape: one call timed per repeat (median in Python), p-values out.
args_file <- sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))
source(file.path(dirname(args_file), "_common.R"))
packages <- c("jsonlite")
bench_require(packages)
meta <- bench_meta()
shapes <- meta$shapes
cells <- bench_read("cells.bin", sum(apply(shapes, 1, prod)))
seconds <- numeric(nrow(shapes))
p <- numeric(nrow(shapes))
at <- 0
for (i in seq_len(nrow(shapes))) {
  r <- shapes[i, 1]; cc <- shapes[i, 2]
  tab <- matrix(cells[at + seq_len(r * cc)], nrow = r)
  at <- at + r * cc
  reps <- max(5, meta$repeats)
  times <- numeric(reps)
  for (j in seq_len(reps)) {
    start <- bench_elapsed()
    inner <- 0
    while (TRUE) {  # loop until 0.05 s has passed: single calls are below the clock's resolution
      p[i] <- fisher.test(tab)$p.value
      inner <- inner + 1
      if (bench_elapsed() - start > 0.05) break
    }
    times[j] <- (bench_elapsed() - start) / inner
  }
  seconds[i] <- median(times)
}
bench_write(list(seconds = seconds, p = sprintf("%.17g", p)), packages)
