# Reference numbers from R's mclust, for tests that need no R (tests/core/test_mclust_reference.py).
#
# Run from the repository root (Debian: apt-get install r-base-core r-cran-mclust r-cran-jsonlite):
#   Rscript scripts/mclust_reference.R        (about 7 minutes)
# It writes tests/data/mclust/<name>.csv (the data exactly as mclust saw them) and
# tests/data/mclust/<name>.json for each data set below, plus nparams.json. Commit them.
#
# Per data set the JSON holds:
#   bic         mclustBIC(X, G = 1:9) with mclust's defaults: {model: [BIC for G = 1..9]} (null = NA),
#               for every model but those in left_out below
#   top         summary(mclustBIC)'s top 3: "VEV,2" ... with their BIC
#   hc          hclass(hc(X, "VVV", use = "SVD"), 2:9): {G: labels 1..G per row} (for 1-D data: qclass)
#   fits        one entry per model and G: EM as mclustBIC runs it (mvn for G = 1, else me() from
#               unmap(hc partition)) with the default control and (d <= 6) with tol 1e-12: loglik, bic,
#               iterations, returnCode, and for d <= 6 the default fit's parameters (pro, mean as
#               d rows of G, sigma as G matrices d x d)
suppressPackageStartupMessages(library(mclust))
library(jsonlite)

out_dir <- file.path("tests", "data", "mclust")
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
G_all <- 1:9
tight <- emControl(tol = c(1e-12, sqrt(.Machine$double.eps)))

datasets <- list(
  faithful = datasets::faithful,
  iris = datasets::iris[, 1:4],
  diabetes = mclust::diabetes[, -1],
  banknote = mclust::banknote[, -1],
  thyroid = mclust::thyroid[, -1],
  acidity = data.frame(acidity = mclust::acidity),
  wdbc = mclust::wdbc[, -(1:2)],
  # scikit-learn's wine table, written by Python (sklearn.datasets.load_wine) and committed
  wine = read.csv(file.path(out_dir, "wine.csv"), check.names = FALSE),
  # 2,000 sheared blobs, as many rows as hc runs on, written by Python and committed:
  # make_blobs_frame(n_samples=2000, n_components=5, random_state=3, variant="anisotropic")[["x", "y"]]
  anisotropic = read.csv(file.path(out_dir, "anisotropic.csv"))
)

# Models left out of a data set: in 30 dimensions mclust's EVE, VEE and VVE (M-steps that iterate
# to an inner tolerance) take it hours; the other eleven take a minute.
left_out <- list(wdbc = c("EVE", "VEE", "VVE"))

# Rscript scripts/mclust_reference.R wine wdbc   redoes only the data sets named.
chosen <- commandArgs(trailingOnly = TRUE)
if (length(chosen)) datasets <- datasets[chosen]

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NA else unname(x)

fit_entry <- function(X, model, G, z, control) {
  n <- nrow(X); d <- ncol(X)
  out <- if (G == 1) mvn(modelName = model, data = if (d == 1) X[, 1] else X)
         else me(data = if (d == 1) X[, 1] else X, modelName = model, z = z, control = control)
  loglik <- num(out$loglik)
  info <- attr(out, "info")
  list(
    loglik = loglik,
    bic = if (is.na(loglik)) NA else bic(modelName = model, loglik = loglik, n = n, d = d, G = G),
    iterations = if (G == 1 || is.null(info)) 0 else num(info[[1]]),  # "iterations" or "niterout"
    returnCode = num(attr(out, "returnCode")),
    parameters = out$parameters
  )
}

for (name in names(datasets)) {
  X <- as.matrix(datasets[[name]])
  storage.mode(X) <- "double"
  n <- nrow(X); d <- ncol(X)
  write.csv(datasets[[name]], file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  models <- if (d == 1) c("E", "V") else setdiff(mclust.options("emModelNames"), left_out[[name]])
  started <- Sys.time()
  b <- mclustBIC(if (d == 1) X[, 1] else X, G = G_all, modelNames = models, verbose = FALSE)
  bic_seconds <- as.numeric(Sys.time() - started, units = "secs")
  s <- summary(b, if (d == 1) X[, 1] else X)
  top <- attr(s, "bestBICvalues")
  partitions <- if (d > 1) hclass(hc(X, modelName = "VVV", use = "SVD"), 2:9)
                else sapply(2:9, function(g) mclust:::qclass(X[, 1], g))
  colnames(partitions) <- as.character(2:9)
  fits <- list()
  for (model in models) for (G in G_all) {
    z <- if (G > 1) unmap(partitions[, as.character(G)]) else NULL
    default <- fit_entry(X, model, G, z, emControl())
    # tol 1e-12 takes hours in 30 dimensions: the converged reference is for the smaller data sets.
    strict <- if (d <= 6) fit_entry(X, model, G, z, tight) else list(loglik = NA, bic = NA, iterations = NA)
    p <- default$parameters
    keep <- !is.na(default$loglik) && d <= 6  # parameters of wider data would make files of megabytes
    sigma <- if (!keep) NULL
             else if (d == 1) lapply(seq_len(G), function(k) matrix(rep(p$variance$sigmasq, length.out = G)[k], 1, 1))
             else lapply(seq_len(G), function(k) p$variance$sigma[, , k, drop = TRUE])
    fits[[length(fits) + 1]] <- list(
      model = model, G = G,
      loglik = default$loglik, bic = default$bic, iterations = default$iterations,
      returnCode = default$returnCode,
      tight_loglik = strict$loglik, tight_bic = strict$bic, tight_iterations = strict$iterations,
      pro = if (!keep) NULL else as.numeric(rep(p$pro, length.out = G)),
      mean = if (!keep) NULL else matrix(p$mean, nrow = d),
      sigma = lapply(sigma, function(m) matrix(m, nrow = d))
    )
  }
  bic_list <- lapply(models, function(m) as.numeric(b[as.character(G_all), m]))
  names(bic_list) <- models
  document <- list(
    name = name, n = n, d = d, columns = colnames(X),
    mclust_version = as.character(packageVersion("mclust")),
    R_version = R.version.string,
    bic_seconds = bic_seconds,
    bic = bic_list,
    top = as.list(setNames(as.numeric(top), names(top))),
    hc = lapply(as.data.frame(partitions), as.integer),
    fits = fits
  )
  write_json(document, file.path(out_dir, paste0(name, ".json")), digits = NA, auto_unbox = TRUE,
             na = "null", null = "null", matrix = "rowmajor")
  cat(sprintf("%-9s n=%4d d=%2d  best %s  (%.1f s)\n", name, n, d, names(top)[1], bic_seconds))
}

counts <- list()
for (d in 1:6) for (model in c(mclust.options("emModelNames"), "E", "V")) for (G in G_all) {
  if (d == 1 && nchar(model) > 1) next
  if (d > 1 && nchar(model) == 1) next
  counts[[length(counts) + 1]] <- list(model = model, d = d, G = G,
                                       nparams = nMclustParams(model, d = d, G = G))
}
write_json(counts, file.path(out_dir, "nparams.json"), auto_unbox = TRUE)
