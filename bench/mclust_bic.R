# Times mclust's mclustBIC for bench/bench.py, which runs it beside our sweep in the same run.
#   Rscript bench/mclust_bic.R data.csv G_max models repeats out.json
# data.csv has a header and numeric columns; models is a comma-separated list of mclust's names.
# Only the call to mclustBIC is timed (not R's start or reading the data); hc's random subset of
# large data is drawn with set.seed(0).
suppressPackageStartupMessages(library(mclust))
args <- commandArgs(trailingOnly = TRUE)
X <- as.matrix(read.csv(args[1]))
G <- seq_len(as.integer(args[2]))
models <- strsplit(args[3], ",")[[1]]
repeats <- as.integer(args[4])
seconds <- numeric(repeats)
for (r in seq_len(repeats)) {
  set.seed(0)
  started <- proc.time()[["elapsed"]]
  b <- mclustBIC(X, G = G, modelNames = models, verbose = FALSE)
  seconds[r] <- proc.time()[["elapsed"]] - started
}
bic <- lapply(models, function(m) as.numeric(b[as.character(G), m]))
names(bic) <- models
jsonlite::write_json(list(seconds = seconds, bic = bic, version = as.character(packageVersion("mclust"))),
                     args[5], digits = NA, auto_unbox = TRUE, na = "null")
