# Paired DeLong test as a pROC user runs it: two roc() curves and roc.test(paired, delong).
args_file <- sub("^--file=", "", grep("^--file=", commandArgs(), value = TRUE))
source(file.path(dirname(args_file), "_common.R"))
packages <- c("pROC", "jsonlite")
bench_require(packages)
meta <- bench_meta()
n <- meta$n
a <- bench_read("a.bin", n); b <- bench_read("b.bin", n); label <- bench_read("label.bin", n)
seconds <- numeric(meta$repeats)
for (i in seq_len(meta$repeats)) {
  start <- bench_elapsed()
  ra <- roc(label, a, levels = c(0, 1), direction = "auto", quiet = TRUE)
  rb <- roc(label, b, levels = c(0, 1), direction = "auto", quiet = TRUE)
  t <- roc.test(ra, rb, method = "delong", paired = TRUE)
  seconds[i] <- bench_elapsed() - start
}
bench_write(list(seconds = seconds, z = sprintf("%.17g", unname(t$statistic)), p = sprintf("%.17g", t$p.value),
                 auc_a = sprintf("%.17g", as.numeric(ra$auc)), auc_b = sprintf("%.17g", as.numeric(rb$auc))), packages)
