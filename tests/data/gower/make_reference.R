# Reference Gower dissimilarities from R's cluster::daisy(metric = "gower").
# Run from this folder:  Rscript make_reference.R [path/to/insurance.csv]
# Writes, per case, <case>_input.csv (the data), <case>_levels.txt (the levels
# of each factor, in order, "column<TAB>ordered<TAB>level|level|...") and
# <case>_daisy.txt (the dissimilarities in dist order = scipy's condensed order,
# one per line, 17 significant digits, "NA" where daisy gives NA).
# tests/test_gower.py rebuilds the same column types in pandas and compares.
library(cluster)

write_case <- function(name, x, d, input = TRUE) {
  if (input) write.csv(x, paste0(name, "_input.csv"), row.names = FALSE, na = "")
  v <- as.vector(d)
  writeLines(ifelse(is.na(v), "NA", formatC(v, digits = 17, format = "g")),
             paste0(name, "_daisy.txt"))
  fac <- names(x)[vapply(x, is.factor, NA)]
  writeLines(vapply(fac, function(col) paste(col, is.ordered(x[[col]]),
                    paste(levels(x[[col]]), collapse = "|"), sep = "\t"), ""),
             paste0(name, "_levels.txt"))
}

# 1. mixed: numeric with NA, nominal factor with NA, ordered factor (an unused
#    level at the top) with NA, a symmetric 0/1 factor.
mixed <- data.frame(
  spend = c(120.5, 80, NA, 300, 45.25, 80, 210, 15, 99.9, 150, 60, NA),
  channel = factor(c("web", "store", "web", NA, "phone", "store", "web", "phone",
                     "web", "store", NA, "phone")),
  tier = factor(c("bronze", "silver", "gold", "bronze", NA, "silver", "gold",
                  "bronze", "silver", NA, "gold", "bronze"),
                levels = c("bronze", "silver", "gold", "platinum"), ordered = TRUE),
  member = factor(c(1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0)),
  visits = c(3, 1, 7, 2, 2, 9, 4, 1, 5, NA, 3, 6)
)
write_case("mixed", mixed, daisy(mixed, metric = "gower"))

# 2. asymmetric binary (daisy's type = list(asymm = ...)) with NA, a symmetric
#    binary and a numeric; rows 3 and 9 share only a 0-0 asymmetric pair -> NA.
asym <- data.frame(
  promo = c(1, 0, 0, 1, 0, 1, 0, 0, 0),
  app = c(0, 0, 0, 1, NA, 1, 0, 1, NA),
  newsletter = c(1, 1, 0, 0, 1, 0, 1, 0, NA),
  income = c(30, 55, NA, 41, 72, 38, NA, 64, NA)
)
write_case("asymm", asym,
           daisy(asym, metric = "gower", type = list(asymm = c("promo", "app"), symm = "newsletter")))

# 3. weights (daisy's weights =) on the mixed table.
write_case("weighted", mixed,
           daisy(mixed, metric = "gower", weights = c(2, 0.5, 1, 3, 1)))

# 4. the first 200 rows of the insurance table (Lantz), character -> factor.
#    Its licence is unverified, so only the dissimilarities are stored; the
#    test reads the rows from ../shared/data and skips when it is absent.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) >= 1 && file.exists(args[1])) {
  ins <- read.csv(args[1], stringsAsFactors = TRUE)[1:200, ]
  write_case("insurance200", ins, daisy(ins, metric = "gower"), input = FALSE)
}
