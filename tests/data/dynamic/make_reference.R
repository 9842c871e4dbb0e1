# Reference labels from R's dynamicTreeCut for tests/test_dynamic.py.
# Run through make_reference.py, which writes the inputs:
#   Rscript make_reference.R <this directory> <directory with the binary inputs>
# Not run by the test suite.

suppressPackageStartupMessages(library(dynamicTreeCut))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- args[1]
bin_dir <- args[2]

# Leaves left to right: each merge row visits column 1 before column 2, as hclust's
# own 'order' does.  Explicit stack: no recursion.
leaf_order <- function(merge) {
  n <- nrow(merge) + 1
  out <- integer(n)
  pos <- 0
  stack <- nrow(merge)
  while (length(stack) > 0) {
    x <- stack[length(stack)]
    stack <- stack[-length(stack)]
    if (x < 0) {
      pos <- pos + 1
      out[pos] <- -x
    } else {
      stack <- c(stack, merge[x, 2], merge[x, 1])
    }
  }
  out
}

# scipy linkage Z (0-based leaves, node n + i for row i) -> hclust object.
# The column order of Z is kept: leaf j becomes -(j + 1), node n + i becomes i + 1.
z_to_hclust <- function(Z, method) {
  n <- nrow(Z) + 1
  to_r <- function(x) ifelse(x < n, -(x + 1), x - n + 1)
  merge <- cbind(as.integer(to_r(Z[, 1])), as.integer(to_r(Z[, 2])))
  structure(list(merge = merge, height = Z[, 3], order = leaf_order(merge),
                 labels = NULL, method = method, call = NULL, dist.method = "euclidean"),
            class = "hclust")
}

settings <- read.csv(file.path(out_dir, "settings.csv"), colClasses = "character", na.strings = character(0))
opt_num <- function(x) if (x == "NA") NULL else as.numeric(x)
datasets <- unique(settings$dataset)
labels_out <- character(nrow(settings))
checks <- data.frame()

for (name in datasets) {
  method <- readLines(file.path(bin_dir, paste0(name, "_method.txt")))
  D <- readBin(file.path(bin_dir, paste0(name, "_D.bin")), "double", n = 1e8, size = 8, endian = "little")
  n <- as.integer(round(sqrt(length(D))))
  D <- matrix(D, n, n)
  Zv <- readBin(file.path(bin_dir, paste0(name, "_Z.bin")), "double", n = 4 * (n - 1), size = 8, endian = "little")
  Z <- matrix(Zv, n - 1, 4, byrow = TRUE)
  tree <- z_to_hclust(Z, method)
  own <- hclust(as.dist(D), method = if (method == "ward") "ward.D2" else method)
  checks <- rbind(checks, data.frame(
    dataset = name,
    same_merge = identical(own$merge, tree$merge),
    max_height_diff = max(abs(own$height - tree$height)),
    same_order = identical(as.integer(own$order), as.integer(tree$order))))
  for (i in which(settings$dataset == name)) {
    s <- settings[i, ]
    deep <- if (s$deepSplit %in% c("TRUE", "FALSE")) as.logical(s$deepSplit) else as.numeric(s$deepSplit)
    cut_height <- opt_num(s$cutHeight)
    common <- list(dendro = tree, cutHeight = cut_height, minClusterSize = as.integer(s$minClusterSize),
                   method = s$method, deepSplit = deep, verbose = 0)
    if (s$method == "hybrid") {
      common <- c(common, list(
        distM = D, pamStage = as.logical(s$pamStage), pamRespectsDendro = as.logical(s$pamRespectsDendro),
        respectSmallClusters = as.logical(s$respectSmallClusters),
        maxCoreScatter = opt_num(s$maxCoreScatter), minGap = opt_num(s$minGap),
        minSplitHeight = opt_num(s$minSplitHeight), maxAbsCoreScatter = opt_num(s$maxAbsCoreScatter),
        minAbsGap = opt_num(s$minAbsGap), minAbsSplitHeight = opt_num(s$minAbsSplitHeight)))
      if (s$maxPamDist != "NA") common$maxPamDist <- as.numeric(s$maxPamDist)
    }
    labels <- suppressWarnings(do.call(cutreeDynamic, common))
    labels_out[i] <- paste(as.integer(labels), collapse = " ")
  }
}

con <- gzfile(file.path(out_dir, "labels.csv.gz"), "w")
write.csv(data.frame(id = settings$id, labels = labels_out), con, row.names = FALSE, quote = FALSE)
close(con)
write.csv(checks, file.path(out_dir, "hclust_check.csv"), row.names = FALSE, quote = FALSE)
print(checks)
