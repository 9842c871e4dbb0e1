# R reference outputs for hclust.divisive.diana (tests/test_divisive.py).
# Run from this folder after `python make_inputs.py`:
#   Rscript diana_reference.R
# Needs R with the recommended package 'cluster' (tested with cluster 2.1.4).
# For each input <name>.csv it writes <name>.out: R's merge matrix, height,
# order and divisive coefficient dc, in a plain text format read by the tests.
library(cluster)

write_result <- function(fit, name) {
  out <- file(paste0(name, ".out"), "w")
  writeLines(sprintf("# cluster::diana %s, R %s", packageVersion("cluster"), getRversion()), out)
  writeLines(sprintf("dc %.17g", fit$dc), out)
  writeLines(paste("order", paste(fit$order, collapse = " ")), out)
  writeLines(paste("height", paste(sprintf("%.17g", fit$height), collapse = " ")), out)
  for (i in seq_len(nrow(fit$merge))) {
    writeLines(sprintf("merge %d %d", fit$merge[i, 1], fit$merge[i, 2]), out)
  }
  close(out)
}

read_set <- function(name) {
  as.matrix(read.csv(paste0(name, ".csv"), header = FALSE))
}

for (name in c("n5_d2", "n12_d3", "n40_blobs", "n100_d5", "n300_blobs", "n50_ties")) {
  write_result(diana(read_set(name), metric = "euclidean"), name)
}
write_result(diana(read_set("n60_manhattan"), metric = "manhattan"), "n60_manhattan")
write_result(diana(read_set("n50_ties"), metric = "manhattan"), "n50_ties_manhattan")
write_result(diana(as.dist(read_set("n30_dissimilarity")), diss = TRUE), "n30_dissimilarity")
write_result(diana(read_set("n40_grid"), metric = "manhattan"), "n40_grid_manhattan")
write_result(diana(as.dist(read_set("n8_equal")), diss = TRUE), "n8_equal")
