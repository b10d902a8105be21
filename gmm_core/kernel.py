"""The compiled EM engine: one fused pass over the data per iteration, and the 14 M-steps.

Everything here works on data already centred and divided by one global scale
(:class:`~gmm_core.fit.Scaling`), with float64 C-contiguous arrays. The callers
in :mod:`gmm_core.engine` check inputs and map results back to data units.

One EM iteration is one pass over the rows: for each row, the K log-densities,
their log-sum-exp (the row's log-likelihood), the responsibilities and, in the
same loop, each component's sufficient statistics: the mass ``n_k``, and the
first and second moments of ``x - m_k`` around the component's current mean
``m_k`` (shifted sums, so no precision is lost when a component lies far from
the origin). The M-step then works on K small d x d scatter matrices:
every model of Celeux & Govaert (1995), as mclust defines it, is a function of
``n_k`` and the within-component scatter ``W_k``.

Model codes are positions in :data:`gmm_core.families.MODELS`; the one-column
models E and V run as EII and VII. Compiled with ``cache=True``: the machine
code is written next to this file (or to ``NUMBA_CACHE_DIR``) on first use;
:func:`gmm_core.engine.compile_engine` compiles everything ahead of time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

EII, VII, EEI, VEI, EVI, VVI, EEE, VEE, EVE, VVE, EEV, VEV, EVV, VVV = range(14)
#: mclust 6.0.0's own M-step for VVE (src/mclustaddson.f, msvve): its common orientation is fitted
#: to the shapes alone, without the components' volumes. Not VVE's M-step, but it gives VVE
#: models, and EM from mclust's start runs it first so that our VVE fit cannot end below mclust's.
VVE_MCLUST = 14

#: Stopping rules: bound on the log-likelihood's remaining gain (Aitken), scikit-learn's
#: change of the mean log-likelihood, mclust's relative change of the log-likelihood.
AITKEN, SKLEARN, MCLUST = 0, 1, 2

#: EM's outcome: converged or out of iterations; a component lost all its mass; a
#: covariance stopped being positive definite; stopped from outside (``control[STOP]``).
OK, EMPTY, SINGULAR, STOPPED = 0, 1, 2, 3
#: Entries of ``em``'s ``control`` array: nonzero asks EM to stop before its next M-step
#: (written by another thread while EM runs); M-steps run so far, added to by every run.
STOP, STEPS = 0, 1

#: A component with less responsibility mass than this (in points) is empty (mclust: sqrt(eps)).
EMPTY_MASS = 1.4901161193847656e-08
#: Inner iterations of the iterative M-steps (VEI, VEE, EVE, VVE, VEV): relative tolerance and cap.
INNER_TOL = 1e-10
INNER_MAX_ITER = 500
#: mclust's tolerance (``emControl()$tol[1]``): from mclust's start, EM runs plain until it holds.
MCLUST_TOL = 1e-5
#: Once Aitken's rule holds, EM's check for a stall near a saddle point runs on until the rule
#: holds with this fraction of the tolerance (see :func:`em`). Of the 15 cells of the default
#: sweep on Old Faithful, Iris and 2,000 sheared blobs that plain EM, continued, improved by more
#: than 0.01 in BIC, SQUAREM continued to 1e-6 found the way up in all 15 (38 to 956 M-steps
#: more), to 1e-4 in 8.
SADDLE_TOL_FACTOR = 1e-3
#: Rounds of EVE's and VVE's orientation update per M-step at most (see _common_orientation).
ORIENTATION_ROUNDS = 5

_LOG_2PI = math.log(2.0 * math.pi)
_BLOCK = 256  # rows per block of the E-step: its buffers stay in the cache, and sums stay accurate
#: Rows whose sums of exponentials (each in [1, K]) the E-step multiplies before one logarithm:
#: exact for K below 10^9 (K^32 < 10^300), and the product's rounding (32 ulp) costs nothing.
_LOG_CHUNK = 32
#: Floating-point liberties for the E-step: reordered sums (so they vectorise), never assuming
#: finite values (a component of weight 0 has a log-density of -inf).
_FAST = {"reassoc", "contract", "arcp", "nsz"}
_NEGLIGIBLE = 40.0
_STEP_FACTOR = 4.0  # growth and shrinkage of SQUAREM's largest step (the SQUAREM package's mstep)


@njit(cache=True, nogil=True)
def is_diagonal(code):
    return code <= VVI


@njit(cache=True, nogil=True)
def cholesky(a, out):
    """Lower Cholesky factor of ``a`` into ``out``; False when ``a`` is not positive definite."""
    d = a.shape[0]
    for j in range(d):
        s = a[j, j]
        for m in range(j):
            s -= out[j, m] * out[j, m]
        if not s > 0.0 or not math.isfinite(s):
            return False
        ljj = math.sqrt(s)
        out[j, j] = ljj
        for i in range(j + 1, d):
            t = a[i, j]
            for m in range(j):
                t -= out[i, m] * out[j, m]
            out[i, j] = t / ljj
        for i in range(j):
            out[i, j] = 0.0
    return True


@njit(cache=True, nogil=True)
def factorize(cov, prec, logdet):
    """For each component: ``prec[k]`` = inverse of the lower Cholesky factor of ``cov[k]``,
    ``logdet[k]`` = half the log-determinant. False when a covariance is not positive definite."""
    K, d = cov.shape[0], cov.shape[1]
    L = np.empty((d, d))
    for k in range(K):
        if not cholesky(cov[k], L):
            return False
        # Invert the lower triangle by forward substitution, column by column.
        P = prec[k]
        P[:, :] = 0.0
        half = 0.0
        for j in range(d):
            half += math.log(L[j, j])
            P[j, j] = 1.0 / L[j, j]
            for i in range(j + 1, d):
                s = 0.0
                for m in range(j, i):
                    s -= L[i, m] * P[m, j]
                P[i, j] = s / L[i, i]
        logdet[k] = half
    return True


_LN2_HI, _LN2_LO = 0.6931471803691238, 1.9082149292705877e-10
#: 1 / j! for j = 0 .. 13: Taylor's series of exp on |r| <= ln(2) / 2, exact to a unit in the last place.
_INVERSE_FACTORIALS = 1.0 / np.cumprod(np.concatenate(([1.0], np.arange(1.0, 14.0))))
_EXPONENT_BIAS, _MANTISSA_BITS = 1023, 52  # of IEEE 754 float64
#: 1.5 * 2^52: a float64 below 2^51 in magnitude added to it lands, whole, in the sum's low bits.
_ROUNDING_SHIFT = 6755399441055744.0


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE 754 bits are the int64 ``bits``: a no-op the compiler vectorises."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))
    return types.float64(types.int64), codegen


@intrinsic
def _bits_from_float(typingctx, value):
    """The IEEE 754 bits of the float64 ``value`` as an int64: a no-op the compiler vectorises."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))
    return types.int64(types.float64), codegen


@njit(inline="always", fastmath=_FAST)
def _exp_negative(v):
    """``exp(v)`` for ``v <= 0`` to within 12 units in the last place (4 on average; the E-step's
    floating-point liberties reorder the argument's reduction), in plain arithmetic the compiler
    vectorises (libm's exp is one call per value). Below -_NEGLIGIBLE it gives exp(-_NEGLIGIBLE):
    a term that small cannot change a sum of terms of which one is 1."""
    v = max(v, -_NEGLIGIBLE)
    # v = -j ln 2 + r, with j a whole float: without AVX-512, converting 64-bit integers to and from
    # floats is not vectorised, and doing so made the exponential 1.6x slower on an AVX2 machine.
    j = np.floor(-v * 1.4426950408889634 + 0.5)
    r = v + j * _LN2_HI + j * _LN2_LO
    p = _INVERSE_FACTORIALS[13]
    for c in range(12, -1, -1):
        p = p * r + _INVERSE_FACTORIALS[c]
    # 2^-j from its bits: a table lookup instead would be a gather, which cost the E-step up to a
    # quarter of its time. The whole number 1023 - j, added to 1.5 * 2^52, is the low bits of the sum.
    return p * _float_from_bits(_bits_from_float((_EXPONENT_BIAS + _ROUNDING_SHIFT) - j) << _MANTISSA_BITS)


@njit(inline="always", fastmath=_FAST)
def _log_densities(ZT, start, m, means, prec, const, diagonal, diff, y, logp):
    """``logp[k, i]``: log weight plus log-density of component k at row ``start + i`` of ``ZT``
    (i < m), one loop over the rows per column and term; ``diff`` (d, _BLOCK) and ``y`` (_BLOCK,) are scratch.

    The columns are read as slices ``ZT[j, start:start + m]``, which the compiler knows to be
    contiguous (a 2-D view of the block is strided to it, and its loops vectorise worse)."""
    d = ZT.shape[0]
    for k in range(means.shape[0]):
        for j in range(d):
            column, centred, mu = ZT[j, start:start + m], diff[j], means[k, j]
            for i in range(m):
                centred[i] = column[i] - mu
        out = logp[k]
        for i in range(m):
            out[i] = 0.0
        for j in range(d):
            if diagonal:
                p, centred = prec[k, j, j], diff[j]
                for i in range(m):
                    t = p * centred[i]
                    out[i] += t * t
                continue
            for i in range(m):
                y[i] = 0.0
            for l in range(j + 1):
                p, centred = prec[k, j, l], diff[l]
                for i in range(m):
                    y[i] += p * centred[i]
            for i in range(m):
                out[i] += y[i] * y[i]
        c = const[k]
        for i in range(m):
            out[i] = c - 0.5 * out[i]


@njit(inline="always", fastmath=_FAST)
def _moments(ZT, start, m, means, diagonal, resp, diff, weighted, nk, sx, sxx):
    """Add the responsibilities ``resp[k, i]`` of rows ``start + i`` of ``ZT`` (i < m) and their first
    and second moments around each mean to ``nk``, ``sx`` and the upper triangle of ``sxx`` (the
    diagonal alone when ``diagonal``); ``diff`` and ``weighted`` (d, _BLOCK) are scratch.

    Each column's centred values and their products with the responsibilities are kept, and each
    pass over them sums four entries of a row of ``sxx`` at once, so that every value loaded serves
    four products (with a pass of its own for each entry, a sweep of 14 models x K = 1..6 on 10,000
    rows took 1.14x as long at d = 5, 1.17x at d = 8)."""
    d = ZT.shape[0]
    for k in range(means.shape[0]):
        r = resp[k]
        mass = 0.0
        for i in range(m):
            mass += r[i]
        nk[k] += mass
        for j in range(d):
            column, centred, product, mu = ZT[j, start:start + m], diff[j], weighted[j], means[k, j]
            first = second = 0.0
            for i in range(m):
                c = column[i] - mu
                centred[i] = c
                w = r[i] * c
                product[i] = w
                first += w
                second += w * c
            sx[k, j] += first
            sxx[k, j, j] += second
        if diagonal:
            continue
        for j in range(d - 1):
            wj = weighted[j]
            for l in range(j + 1, d, 4):
                # Past the last column the sums repeat it; they are not kept.
                d0, d1, d2, d3 = diff[l], diff[min(l + 1, d - 1)], diff[min(l + 2, d - 1)], diff[min(l + 3, d - 1)]
                s0 = s1 = s2 = s3 = 0.0
                for i in range(m):
                    w = wj[i]
                    s0 += w * d0[i]
                    s1 += w * d1[i]
                    s2 += w * d2[i]
                    s3 += w * d3[i]
                sxx[k, j, l] += s0
                if l + 1 < d:
                    sxx[k, j, l + 1] += s1
                if l + 2 < d:
                    sxx[k, j, l + 2] += s2
                if l + 3 < d:
                    sxx[k, j, l + 3] += s3


@njit(inline="always", fastmath=_FAST)
def _log_densities_fused(columns, means, prec, const, diagonal, logp):
    """``logp[k, i]``: log weight plus log-density of component k at row i, for a tuple of one to
    eight contiguous column slices: one loop per component, whose loops over the columns the
    compiler unrolls (the tuple's length is part of its type), so the loop over the rows
    vectorises and each row is read once."""
    d = len(columns)
    for k in range(means.shape[0]):
        mu, P, c = means[k], prec[k], const[k]
        out = logp[k]
        for i in range(columns[0].shape[0]):
            s = 0.0
            for j in range(d):
                if diagonal:
                    y = P[j, j] * (columns[j][i] - mu[j])
                else:
                    y = 0.0
                    for l in range(j + 1):
                        y += P[j, l] * (columns[l][i] - mu[l])
                s += y * y
            out[i] = c - 0.5 * s


@njit(inline="always", fastmath=_FAST)
def _moments_fused(columns, means, diagonal, resp, nk, sx, sxx):
    """Add the rows' responsibilities ``resp[k, i]`` and their first and second moments around each
    mean to ``nk``, ``sx`` and the upper triangle of ``sxx`` (the diagonal alone when ``diagonal``),
    for a tuple of one to four contiguous column slices: one loop per component, its sums in
    scalars (the branches on ``d``, the tuple's length, are settled when compiled)."""
    d = len(columns)
    # Columns past d alias the last one; nothing computed from them is kept.
    x0, x1, x2, x3 = columns[0], columns[min(1, d - 1)], columns[min(2, d - 1)], columns[min(3, d - 1)]
    for k in range(means.shape[0]):
        r = resp[k]
        mu0, mu1, mu2, mu3 = means[k, 0], means[k, min(1, d - 1)], means[k, min(2, d - 1)], means[k, min(3, d - 1)]
        mass = s0 = s1 = s2 = s3 = 0.0
        s00 = s01 = s02 = s03 = s11 = s12 = s13 = s22 = s23 = s33 = 0.0
        for i in range(x0.shape[0]):
            ri = r[i]
            mass += ri
            a0 = x0[i] - mu0
            r0 = ri * a0
            s0 += r0
            s00 += r0 * a0
            if d > 1:
                a1 = x1[i] - mu1
                r1 = ri * a1
                s1 += r1
                s11 += r1 * a1
                s01 += r0 * a1
            if d > 2:
                a2 = x2[i] - mu2
                r2 = ri * a2
                s2 += r2
                s22 += r2 * a2
                s02 += r0 * a2
                s12 += r1 * a2
            if d > 3:
                a3 = x3[i] - mu3
                r3 = ri * a3
                s3 += r3
                s33 += r3 * a3
                s03 += r0 * a3
                s13 += r1 * a3
                s23 += r2 * a3
        nk[k] += mass
        sx[k, 0] += s0
        sxx[k, 0, 0] += s00
        if d > 1:
            sx[k, 1] += s1
            sxx[k, 1, 1] += s11
        if d > 2:
            sx[k, 2] += s2
            sxx[k, 2, 2] += s22
        if d > 3:
            sx[k, 3] += s3
            sxx[k, 3, 3] += s33
        if not diagonal:
            if d > 1:
                sxx[k, 0, 1] += s01
            if d > 2:
                sxx[k, 0, 2] += s02
                sxx[k, 1, 2] += s12
            if d > 3:
                sxx[k, 0, 3] += s03
                sxx[k, 1, 3] += s13
                sxx[k, 2, 3] += s23


@njit(cache=True, nogil=True, fastmath=_FAST)
def _densities(ZT, start, m, means, prec, const, diagonal, diff, y, logp):
    """:func:`_log_densities_fused` on rows ``start .. start + m`` when the data have one to
    eight columns (3.2-3.6x faster than the general loops at d = 3..8), else :func:`_log_densities`."""
    d, s, e = ZT.shape[0], start, start + m
    if d == 1:
        _log_densities_fused((ZT[0, s:e],), means, prec, const, diagonal, logp)
    elif d == 2:
        _log_densities_fused((ZT[0, s:e], ZT[1, s:e]), means, prec, const, diagonal, logp)
    elif d == 3:
        _log_densities_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e]), means, prec, const, diagonal, logp)
    elif d == 4:
        _log_densities_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e], ZT[3, s:e]), means, prec, const, diagonal, logp)
    elif d == 5:
        _log_densities_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e], ZT[3, s:e], ZT[4, s:e]), means, prec, const,
                             diagonal, logp)
    elif d == 6:
        _log_densities_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e], ZT[3, s:e], ZT[4, s:e], ZT[5, s:e]), means, prec,
                             const, diagonal, logp)
    elif d == 7:
        _log_densities_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e], ZT[3, s:e], ZT[4, s:e], ZT[5, s:e], ZT[6, s:e]),
                             means, prec, const, diagonal, logp)
    elif d == 8:
        _log_densities_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e], ZT[3, s:e], ZT[4, s:e], ZT[5, s:e], ZT[6, s:e],
                              ZT[7, s:e]), means, prec, const, diagonal, logp)
    else:
        _log_densities(ZT, start, m, means, prec, const, diagonal, diff, y, logp)


@njit(cache=True, nogil=True, fastmath=_FAST)
def _sums(ZT, start, m, means, diagonal, resp, diff, weighted, nk, sx, sxx):
    """:func:`_moments_fused` on rows ``start .. start + m`` when the data have one to
    four columns, else :func:`_moments`."""
    d, s, e = ZT.shape[0], start, start + m
    if d == 1:
        _moments_fused((ZT[0, s:e],), means, diagonal, resp, nk, sx, sxx)
    elif d == 2:
        _moments_fused((ZT[0, s:e], ZT[1, s:e]), means, diagonal, resp, nk, sx, sxx)
    elif d == 3:
        _moments_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e]), means, diagonal, resp, nk, sx, sxx)
    elif d == 4:
        _moments_fused((ZT[0, s:e], ZT[1, s:e], ZT[2, s:e], ZT[3, s:e]), means, diagonal, resp, nk, sx, sxx)
    else:
        _moments(ZT, start, m, means, diagonal, resp, diff, weighted, nk, sx, sxx)


@njit(cache=True, nogil=True, fastmath=_FAST)
def estep(ZT, weights, means, prec, logdet, diagonal, stats, resp, nk, sx, sxx):
    """One pass over the rows under the given parameters; returns the total log-likelihood.

    The rows are taken in blocks of ``_BLOCK``, and within a block every loop runs
    over the rows (the columns of ``ZT`` are contiguous), so the compiler vectorises
    the densities, the exponentials and the sums. Each row's log-likelihood is its
    largest log-term plus the log of its sum of exponentials; that sum lies in
    [1, K], so the logs are taken of products of ``_LOG_CHUNK`` sums (one logarithm
    per chunk of rows, not per row). With one to eight columns each component's
    densities are one fused loop over the rows, and with one to four its sums too (one
    E-step at 100,000 rows, K = 5, on an AVX2 machine: 1.6x faster than the general loops at
    d = 3 and 4, 1.4x at d = 6 and 8).

    Parameters
    ----------
    ZT : (d, n)
        The data, transposed (``np.ascontiguousarray(Z.T)``).
    weights : (K,); means : (K, d); prec : (K, d, d) inverse Cholesky factors; logdet : (K,)
    diagonal : bool
        The covariances are diagonal: only ``prec[k, j, j]`` is read, and only the
        diagonal of ``sxx`` is accumulated.
    stats : bool
        Accumulate, around each component's current mean, ``nk`` (K,), ``sx`` (K, d)
        and the upper triangle of ``sxx`` (K, d, d); they are zeroed first.
    resp : (n, K) or (0, K)
        When it has n rows, the responsibilities are written to it.
    """
    d, n = ZT.shape
    K = weights.shape[0]
    if stats:
        nk[:] = 0.0
        sx[:, :] = 0.0
        sxx[:, :, :] = 0.0
    write = resp.shape[0] == n
    const = np.empty(K)
    for k in range(K):
        const[k] = (math.log(weights[k]) if weights[k] > 0.0 else -np.inf) - logdet[k] - 0.5 * d * _LOG_2PI
    logp = np.empty((K, _BLOCK))
    diff = np.empty((d, _BLOCK))
    weighted = np.empty((d, _BLOCK))
    y = np.empty(_BLOCK)
    top = np.empty(_BLOCK)
    total_row = np.empty(_BLOCK)
    total = 0.0
    for start in range(0, n, _BLOCK):
        m = min(_BLOCK, n - start)
        _densities(ZT, start, m, means, prec, const, diagonal, diff, y, logp)
        for i in range(m):
            top[i] = logp[0, i]
        for k in range(1, K):
            for i in range(m):
                top[i] = max(top[i], logp[k, i])
        for i in range(m):
            total_row[i] = 0.0
        for k in range(K):
            row = logp[k]
            for i in range(m):
                e = _exp_negative(row[i] - top[i])
                row[i] = e
                total_row[i] += e
        block = 0.0
        for i in range(m):  # a loop of its own: it vectorises
            block += top[i]
        for chunk in range(0, m, _LOG_CHUNK):
            product = 1.0
            for i in range(chunk, min(chunk + _LOG_CHUNK, m)):
                product *= total_row[i]
            block += math.log(product)
        for i in range(m):
            total_row[i] = 1.0 / total_row[i]
        for k in range(K):
            row = logp[k]
            for i in range(m):
                row[i] *= total_row[i]
        total += block
        if write:
            for i in range(m):
                for k in range(K):
                    resp[start + i, k] = logp[k, i]
        if stats:
            _sums(ZT, start, m, means, diagonal, logp, diff, weighted, nk, sx, sxx)
    return total


@njit(cache=True, nogil=True)
def moments(nk, means, sx, sxx, diagonal, W):
    """New means (in place) and within-component scatter ``W`` from :func:`estep`'s shifted sums."""
    K, d = means.shape
    for k in range(K):
        if nk[k] <= 0.0:
            W[k, :, :] = 0.0
            continue
        for j in range(d):
            shift = sx[k, j] / nk[k]
            for m in range(j, d):
                if diagonal and m != j:
                    W[k, j, m] = 0.0
                    W[k, m, j] = 0.0
                    continue
                w = sxx[k, j, m] - sx[k, j] * sx[k, m] / nk[k]
                W[k, j, m] = w
                W[k, m, j] = w
            means[k, j] += shift


@njit(cache=True, nogil=True)
def partition_stats(Z, resp, nk, means, W):
    """Mass, means and scatter of the components given responsibilities ``resp`` (n, K); two passes."""
    n, d = Z.shape
    K = resp.shape[1]
    nk[:] = 0.0
    means[:, :] = 0.0
    W[:, :, :] = 0.0
    for i in range(n):
        for k in range(K):
            r = resp[i, k]
            if r > 0.0:
                nk[k] += r
                for j in range(d):
                    means[k, j] += r * Z[i, j]
    for k in range(K):
        if nk[k] > 0.0:
            for j in range(d):
                means[k, j] /= nk[k]
    for i in range(n):
        for k in range(K):
            r = resp[i, k]
            if r > 0.0:
                for j in range(d):
                    dj = r * (Z[i, j] - means[k, j])
                    for m in range(j, d):
                        W[k, j, m] += dj * (Z[i, m] - means[k, m])
    for k in range(K):
        for j in range(d):
            for m in range(j + 1, d):
                W[k, m, j] = W[k, j, m]


# -- M-steps -----------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _geometric_mean(v):
    s = 0.0
    for x in v:
        s += math.log(x)
    return math.exp(s / v.shape[0])


@njit(cache=True, nogil=True)
def _log_det_root(a):
    """``det(a) ** (1 / d)`` through a Cholesky factor, or -1.0 when ``a`` is not positive definite."""
    d = a.shape[0]
    L = np.empty((d, d))
    if not cholesky(a, L):
        return -1.0
    s = 0.0
    for j in range(d):
        s += math.log(L[j, j])
    return math.exp(2.0 * s / d)


@njit(cache=True, nogil=True)
def _orientation_eigenvalues(T, nk, code, delta):
    """EVE and VVE: the eigenvalues ``delta`` (K, d) best for an orientation ``D``, from the
    rotated scatters ``T[k] = D^T W_k D``; returns the part of the objective that depends on
    them (to be minimised)."""
    K, d = T.shape[0], T.shape[1]
    n = nk.sum()
    for k in range(K):
        for j in range(d):
            delta[k, j] = T[k, j, j]
    if code == EVE:
        total = 0.0
        for k in range(K):
            total += _geometric_mean(delta[k])
        volume = total / n
        for k in range(K):
            delta[k] *= volume / _geometric_mean(delta[k])
        return n * d * math.log(volume)
    objective = 0.0
    for k in range(K):
        for j in range(d):
            delta[k, j] /= nk[k]
            objective += nk[k] * math.log(delta[k, j])
    return objective


@njit(cache=True, nogil=True)
def _common_orientation(W, nk, code, D, delta):
    """EVE and VVE: ``Sigma_k = D diag(delta[k]) D^T`` with one orientation ``D`` (in place).

    For ``VVE_MCLUST`` the rotations weigh each component by its shape alone, as mclust does.

    Alternates the eigenvalues given ``D`` with Jacobi sweeps for ``D`` given the
    eigenvalues: each plane rotation is the exact minimiser, in its plane, of
    ``sum_k tr(D^T W_k D diag(delta_k)^-1)`` (a cosine in twice the angle), so every
    step lowers the M-step's objective. Warm-started from the last EM iteration's
    ``D``, a sweep or two per M-step is usually enough; it stops when the objective
    settles or after ``ORIENTATION_ROUNDS`` rounds.
    """
    K, d = nk.shape[0], W.shape[1]
    T = np.empty((K, d, d))
    for k in range(K):
        T[k] = D.T @ W[k] @ D
    previous = _orientation_eigenvalues(T, nk, code, delta)
    for _ in range(ORIENTATION_ROUNDS):
        for p in range(d - 1):
            for q in range(p + 1, d):
                A, B = 0.0, 0.0
                for k in range(K):
                    w = 1.0 / delta[k, p] - 1.0 / delta[k, q]
                    if code == VVE_MCLUST:
                        w *= _geometric_mean(delta[k])
                    A += 0.5 * (T[k, p, p] - T[k, q, q]) * w
                    B += T[k, p, q] * w
                if math.hypot(A, B) == 0.0:
                    continue
                theta = 0.5 * math.atan2(-B, -A)
                c, s = math.cos(theta), math.sin(theta)
                if abs(s) < 1e-15:
                    continue
                for i in range(d):
                    dp, dq = D[i, p], D[i, q]
                    D[i, p] = c * dp + s * dq
                    D[i, q] = -s * dp + c * dq
                for k in range(K):
                    # T <- G^T T G for the rotation G in the plane (p, q).
                    for i in range(d):
                        tp, tq = T[k, i, p], T[k, i, q]
                        T[k, i, p] = c * tp + s * tq
                        T[k, i, q] = -s * tp + c * tq
                    for i in range(d):
                        tp, tq = T[k, p, i], T[k, q, i]
                        T[k, p, i] = c * tp + s * tq
                        T[k, q, i] = -s * tp + c * tq
        objective = _orientation_eigenvalues(T, nk, code, delta)
        if abs(previous - objective) <= INNER_TOL * (1.0 + abs(objective)):
            break
        previous = objective


@njit(cache=True, nogil=True)
def mstep(code, nk, W, psi, reg, cov, shape, orient, scale):
    """Covariances ``cov`` (K, d, d) of model ``code`` from masses ``nk`` and scatters ``W``.

    ``W`` is regularised in place first, ``W_k += n_k * reg * psi``, so that every
    model keeps its structure. ``shape`` (K, d), ``orient`` (d, d) and ``scale``
    (K,) carry the iterative M-steps' last solution from one EM iteration to the
    next (shape 1, orientation I and scale 1 start them; EM resumed from EVE's or
    VVE's parameters starts from their own orientation, see
    :func:`gmm_core.engine.common_orientation`). Returns False when a scatter
    matrix the model needs to invert is singular.
    """
    K, d = W.shape[0], W.shape[1]
    n = nk.sum()
    for k in range(K):
        for j in range(d):
            for m in range(d):
                W[k, j, m] += nk[k] * reg * psi[j, m]
    cov[:, :, :] = 0.0
    if K == 1:
        # One component: every model is the single Gaussian of its family (spherical,
        # diagonal or full), in closed form, as mclust's mvn fits it.
        code = VII if code <= VII else VVI if code <= VVI else VVV
    if code == EII or code == VII:
        total = 0.0
        for k in range(K):
            tr = np.trace(W[k])
            total += tr
            if code == VII:
                for j in range(d):
                    cov[k, j, j] = tr / (d * nk[k])
        if code == EII:
            for k in range(K):
                for j in range(d):
                    cov[k, j, j] = total / (d * n)
    elif code == EEI or code == VVI:
        pooled = np.zeros(d)
        for k in range(K):
            for j in range(d):
                pooled[j] += W[k, j, j]
        for k in range(K):
            for j in range(d):
                cov[k, j, j] = pooled[j] / n if code == EEI else W[k, j, j] / nk[k]
    elif code == EVI:
        total = 0.0
        roots = np.empty(K)
        for k in range(K):
            roots[k] = _geometric_mean(np.diag(W[k]).copy())
            total += roots[k]
        for k in range(K):
            for j in range(d):
                cov[k, j, j] = W[k, j, j] * (total / n) / roots[k]
    elif code == VEI:
        diag = np.empty((K, d))
        for k in range(K):
            diag[k] = np.diag(W[k])
        B = shape[0]
        for _ in range(INNER_MAX_ITER):
            change = 0.0
            for k in range(K):
                old = scale[k]
                scale[k] = (diag[k] / B).sum() / (d * nk[k])
                change = max(change, abs(scale[k] - old) / scale[k])
            new = np.zeros(d)
            for k in range(K):
                new += diag[k] / scale[k]
            new /= _geometric_mean(new)
            for j in range(d):
                change = max(change, abs(new[j] - B[j]) / new[j])
            B[:] = new
            if change <= INNER_TOL:
                break
        for k in range(K):
            for j in range(d):
                cov[k, j, j] = scale[k] * B[j]
    elif code == EEE or code == VVV:
        pooled = np.zeros((d, d))
        for k in range(K):
            pooled += W[k]
        for k in range(K):
            cov[k] = pooled / n if code == EEE else W[k] / nk[k]
    elif code == EVV:
        total = 0.0
        roots = np.empty(K)
        for k in range(K):
            roots[k] = _log_det_root(W[k])
            if roots[k] <= 0.0:
                return False
            total += roots[k]
        for k in range(K):
            cov[k] = W[k] * ((total / n) / roots[k])
    elif code == VEE:
        C = orient
        for _ in range(INNER_MAX_ITER):
            inv = np.linalg.inv(C)
            change = 0.0
            for k in range(K):
                old = scale[k]
                scale[k] = np.trace(inv @ W[k]) / (d * nk[k])
                change = max(change, abs(scale[k] - old) / scale[k])
            pooled = np.zeros((d, d))
            for k in range(K):
                pooled += W[k] / scale[k]
            root = _log_det_root(pooled)
            if root <= 0.0:
                return False
            C[:, :] = pooled / root
            if change <= INNER_TOL:
                break
        for k in range(K):
            cov[k] = scale[k] * C
    elif code == EEV or code == VEV:
        values = np.empty((K, d))
        vectors = np.empty((K, d, d))
        for k in range(K):
            w, v = np.linalg.eigh(W[k])
            values[k] = np.maximum(w, 0.0)  # a component of d points or fewer has a flat W_k
            vectors[k] = v
        A = shape[0]
        if code == EEV:
            A[:] = values.sum(axis=0) / n
            scale[:] = 1.0
        else:
            for _ in range(INNER_MAX_ITER):
                change = 0.0
                for k in range(K):
                    old = scale[k]
                    scale[k] = (values[k] / A).sum() / (d * nk[k])
                    change = max(change, abs(scale[k] - old) / scale[k])
                new = np.zeros(d)
                for k in range(K):
                    new += values[k] / scale[k]
                new /= _geometric_mean(new)
                for j in range(d):
                    change = max(change, abs(new[j] - A[j]) / new[j])
                A[:] = new
                if change <= INNER_TOL:
                    break
        for k in range(K):
            cov[k] = (vectors[k] * (scale[k] * A)) @ vectors[k].T
    else:  # EVE, VVE
        for k in range(K):
            if _log_det_root(W[k]) <= 0.0:
                return False
        _common_orientation(W, nk, code, orient, shape)
        for k in range(K):
            cov[k] = (orient * shape[k]) @ orient.T
    for k in range(K):
        for j in range(d):
            for m in range(j + 1, d):
                s = 0.5 * (cov[k, j, m] + cov[k, m, j])
                cov[k, j, m] = s
                cov[k, m, j] = s
    return True


@njit(cache=True, nogil=True)
def relative_smallest_variances(cov, psi):
    """Each component's smallest variance relative to ``psi``'s in the same direction, shape (K,):
    the smallest eigenvalue of ``L^-1 cov[k] L^-T`` with ``psi = L L^T``."""
    K, d = cov.shape[0], cov.shape[1]
    L = np.empty((d, d))
    out = np.full(K, np.nan)
    if not cholesky(psi, L):
        return out
    Linv = np.linalg.inv(L)
    for k in range(K):
        M = Linv @ cov[k] @ Linv.T
        out[k] = np.linalg.eigvalsh(0.5 * (M + M.T))[0]
    return out


# -- EM ----------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _stop(history, t, tol, rule, n, shift):
    """Whether EM stops after the log-likelihoods ``history[0..t]`` (t >= 1).

    ``history + shift`` is the log-likelihood in the data's own units: mclust's
    relative rule is judged on it, as mclust judges it; the other rules read only gains.
    """
    gain = history[t] - history[t - 1]
    if rule == SKLEARN:
        return abs(gain) / n < tol
    if rule == MCLUST:
        return abs(gain) / (1.0 + abs(history[t] + shift)) < tol
    # Aitken: with a = gain / previous gain, the gains ahead add up to gain * a / (1 - a).
    if gain < 0.0:
        return -gain < tol  # a decrease only from rounding
    if gain >= tol or t < 2:
        return False
    previous = history[t - 1] - history[t - 2]
    if previous <= 0.0:
        return True
    a = gain / previous
    if a >= 1.0:
        return False
    return gain * a / (1.0 - a) < tol


@njit(cache=True, nogil=True)
def _update(code, nk, sx, sxx, diagonal, psi, reg, weights, means, cov, prec, logdet, shape, orient, scale, W,
            new_cov):
    """The M-step from :func:`estep`'s sums: new weights, means and covariances (and their factors) in place.

    Returns False, with the parameters and factors unchanged, when a covariance is singular.
    """
    saved_means = means.copy()
    moments(nk, means, sx, sxx, diagonal, W)
    if not mstep(code, nk, W, psi, reg, new_cov, shape, orient, scale) or not factorize(new_cov, prec, logdet):
        means[:, :] = saved_means
        factorize(cov, prec, logdet)
        return False
    cov[:, :, :] = new_cov
    weights[:] = nk / nk.sum()
    return True


@njit(cache=True, nogil=True)
def em(Z, code, weights, means, cov, shape, orient, scale, psi, reg, tol, rule, max_iter, accelerate, plain_first,
       saddle_check, shift, control, history, trace_weights, trace_means, trace_cov):
    """EM from the parameters given (updated in place) until the stopping rule holds.

    Iteration t computes the log-likelihood of the current parameters in the
    fused pass, then the M-step; EM stops when ``rule`` holds for the
    log-likelihoods so far, or after ``max_iter`` M-steps, and the parameters
    left are those of the last M-step. ``history`` (at least 2 max_iter + 2
    long) receives the log-likelihood of every parameter set visited in order,
    the last one the final parameters'. When ``trace_weights`` has max_iter + 1
    rows, the parameters before the first and after every M-step are written to
    it, ``trace_means`` and ``trace_cov`` (give arrays of 0 rows otherwise).

    With ``accelerate`` (and the Aitken rule, no trace), EM runs as SQUAREM
    (Varadhan & Roland 2008): after two EM steps from ``theta0`` to ``theta1``
    and ``theta2``, it tries one jump to ``theta0 + 2 a r + a^2 v`` (``r =
    theta1 - theta0``, ``v = theta2 - 2 theta1 + theta0``, ``a = |r| / |v|``
    capped by a bound that grows fourfold after a full-length jump that paid and
    shrinks fourfold after one that did not, as in the SQUAREM package), and
    keeps it when it is a valid mixture at least as likely as ``theta0``, else
    stays at ``theta2``; the next M-step brings it back into the model. Each
    cycle thus starts at least as high as the last. The stopping rule is
    Aitken's on the two plain steps of a cycle, for two cycles in a row. With
    ``plain_first`` > 0, plain EM runs first until mclust's rule with that
    tolerance holds (from mclust's start, that is mclust's own fit, with
    mclust's M-step for VVE), and SQUAREM goes on from there, so the fit cannot
    end below mclust's. Once the stopping rule holds, SQUAREM goes on for up to
    ``saddle_check`` more M-steps, until the rule holds with ``tol *
    SADDLE_TOL_FACTOR``: near a saddle point EM's gains shrink for a while as
    if it converged, and only by going on does it find its way up (the run
    counts as converged either way; should the check break down, the run ends
    where the rule stopped it). ``shift`` turns the log-likelihoods into the
    data's own units for mclust's relative rule (see :func:`_stop`).

    ``control`` (int64, 2 entries): EM stops with STOPPED before any M-step once
    ``control[STOP]`` is nonzero, and adds each M-step to ``control[STEPS]``.

    Returns
    -------
    status : int
        OK, EMPTY (a component lost its mass), SINGULAR (a covariance is not
        positive definite) or STOPPED; on failure the parameters are the last valid ones.
    n_iter : int
        M-steps run.
    converged : bool
    n_history : int
        Entries of ``history`` written.
    """
    n, d = Z.shape
    K = weights.shape[0]
    ZT = np.ascontiguousarray(Z.T)
    diagonal = is_diagonal(code)
    prec = np.empty((K, d, d))
    logdet = np.empty(K)
    nk = np.empty(K)
    sx = np.empty((K, d))
    sxx = np.empty((K, d, d))
    W = np.empty((K, d, d))
    new_cov = np.empty((K, d, d))
    no_resp = np.empty((0, K))
    if not factorize(cov, prec, logdet):
        return SINGULAR, 0, False, 0
    tracing = trace_weights.shape[0] > max_iter
    if tracing:
        trace_weights[0], trace_means[0], trace_cov[0] = weights, means, cov
    status, converged, t, h = OK, False, 0, 0
    history[0] = estep(ZT, weights, means, prec, logdet, diagonal, True, no_resp, nk, sx, sxx)
    h = 1
    accelerate = accelerate and rule == AITKEN and not tracing
    if accelerate and plain_first > 0.0:
        base, steps = h - 1, 0
        prelude = VVE_MCLUST if code == VVE else code  # mclust's own path, exactly
        while t < max_iter:
            if control[STOP] != 0:
                status = STOPPED
                break
            if nk.min() < EMPTY_MASS:
                status = EMPTY
                break
            if not _update(prelude, nk, sx, sxx, diagonal, psi, reg, weights, means, cov, prec, logdet, shape, orient,
                           scale, W, new_cov):
                status = SINGULAR
                break
            t += 1
            steps += 1
            control[STEPS] += 1
            history[h] = estep(ZT, weights, means, prec, logdet, diagonal, True, no_resp, nk, sx, sxx)
            h += 1
            if steps >= 2 and _stop(history[base:h], h - 2 - base, plain_first, MCLUST, n, shift):
                break
    if accelerate and status == OK:
        # Copies of theta0 and theta1, and a trial point with its factors and sums.
        w0, m0, c0 = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
        w1, m1, c1 = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
        wt, mt, ct = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
        pt, lt = np.empty((K, d, d)), np.empty(K)
        nkt, sxt, sxxt = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
        three = np.empty(3)
        calm = 0
        step_max = 1.0
        check_end = max_iter
        checked_from = 0  # history's length when the check began, and the parameters then
        ws, ms, cs = np.empty(K), np.empty((K, d)), np.empty((K, d, d))
        while t + 2 <= min(max_iter, check_end):
            if control[STOP] != 0:
                status = STOPPED
                break
            if nk.min() < EMPTY_MASS:
                status = EMPTY
                break
            w0[:], m0[:, :], c0[:, :, :] = weights, means, cov
            l0 = history[h - 1]
            if not _update(code, nk, sx, sxx, diagonal, psi, reg, weights, means, cov, prec, logdet, shape, orient,
                           scale, W, new_cov):
                status = SINGULAR
                break
            t += 1
            control[STEPS] += 1
            history[h] = estep(ZT, weights, means, prec, logdet, diagonal, True, no_resp, nk, sx, sxx)
            h += 1
            if nk.min() < EMPTY_MASS:
                status = EMPTY
                break
            w1[:], m1[:, :], c1[:, :, :] = weights, means, cov
            if not _update(code, nk, sx, sxx, diagonal, psi, reg, weights, means, cov, prec, logdet, shape, orient,
                           scale, W, new_cov):
                status = SINGULAR
                break
            t += 1
            control[STEPS] += 1
            l2 = estep(ZT, weights, means, prec, logdet, diagonal, True, no_resp, nk, sx, sxx)
            history[h] = l2
            h += 1
            three[0], three[1], three[2] = l0, history[h - 2], l2
            # An extrapolation leaves EM's rate unsteady for a while, so Aitken's estimate must
            # hold for two cycles in a row, the second one without a jump.
            if _stop(three, 2, tol, rule, n, shift):
                calm += 1
                if calm == 2:
                    if converged or saddle_check == 0:
                        converged = True
                        break
                    converged, calm = True, 0
                    tol *= SADDLE_TOL_FACTOR
                    check_end = t + saddle_check
                    checked_from = h
                    ws[:], ms[:, :], cs[:, :, :] = weights, means, cov
                continue
            calm = 0
            # r = theta1 - theta0, v = theta2 - 2 theta1 + theta0, over all parameters.
            rr, vv = 0.0, 0.0
            for k in range(K):
                r = w1[k] - w0[k]
                v = weights[k] - 2.0 * w1[k] + w0[k]
                rr += r * r
                vv += v * v
                for j in range(d):
                    r = m1[k, j] - m0[k, j]
                    v = means[k, j] - 2.0 * m1[k, j] + m0[k, j]
                    rr += r * r
                    vv += v * v
                    for m in range(d):
                        r = c1[k, j, m] - c0[k, j, m]
                        v = cov[k, j, m] - 2.0 * c1[k, j, m] + c0[k, j, m]
                        rr += r * r
                        vv += v * v
            if not vv > 0.0:
                continue
            alpha = min(math.sqrt(rr / vv), step_max)
            full_length = alpha >= step_max
            if alpha <= 1.0 + 1e-6:
                if full_length:
                    step_max *= _STEP_FACTOR
                continue  # no jump beyond theta2
            # theta0 + 2 alpha r + alpha^2 v
            c_r, c_v = 2.0 * alpha, alpha * alpha
            wt[:] = w0 + c_r * (w1 - w0) + c_v * (weights - 2.0 * w1 + w0)
            mt[:, :] = m0 + c_r * (m1 - m0) + c_v * (means - 2.0 * m1 + m0)
            ct[:, :, :] = c0 + c_r * (c1 - c0) + c_v * (cov - 2.0 * c1 + c0)
            accepted = False
            if wt.min() > 0.0 and factorize(ct, pt, lt):
                wt /= wt.sum()
                lt_value = estep(ZT, wt, mt, pt, lt, diagonal, True, no_resp, nkt, sxt, sxxt)
                if lt_value >= l0 and nkt.min() >= EMPTY_MASS:
                    weights[:], means[:, :], cov[:, :, :] = wt, mt, ct
                    prec[:, :, :], logdet[:] = pt, lt
                    nk[:], sx[:, :], sxx[:, :, :] = nkt, sxt, sxxt
                    history[h] = lt_value
                    h += 1
                    accepted = True
            if full_length:
                step_max = step_max * _STEP_FACTOR if accepted else max(1.0, step_max / _STEP_FACTOR)
        if checked_from > 0 and (status == EMPTY or status == SINGULAR):
            # The check broke down: the run ends where the rule stopped it.
            weights[:], means[:, :], cov[:, :, :] = ws, ms, cs
            status, h = OK, checked_from
    # Plain EM: alone, or for the step SQUAREM had no room for. Its stopping rule reads only its
    # own log-likelihoods, from the parameters it starts at.
    base, steps = h - 1, 0
    while not converged and status == OK and t < max_iter:
        if control[STOP] != 0:
            status = STOPPED
            break
        if nk.min() < EMPTY_MASS:
            status = EMPTY
            break
        if not _update(code, nk, sx, sxx, diagonal, psi, reg, weights, means, cov, prec, logdet, shape, orient,
                       scale, W, new_cov):
            status = SINGULAR
            break
        t += 1
        steps += 1
        control[STEPS] += 1
        if tracing:
            trace_weights[t], trace_means[t], trace_cov[t] = weights, means, cov
        history[h] = estep(ZT, weights, means, prec, logdet, diagonal, True, no_resp, nk, sx, sxx)
        h += 1
        if steps >= 2 and _stop(history[base:h], h - 2 - base, tol, rule, n, shift):
            converged = True
            break
    return status, t, converged, h


@njit(cache=True, nogil=True)
def start_from_responsibilities(Z, resp, code, psi, reg, weights, means, cov, shape, orient, scale):
    """The M-step from responsibilities ``resp`` (n, K): EM's first step from a partition.

    Fills weights, means and covariances; ``shape``, ``orient`` and ``scale`` are
    reset (mclust's starting values of the iterative M-steps). Returns an EM
    status (OK, EMPTY or SINGULAR).
    """
    K = resp.shape[1]
    d = Z.shape[1]
    nk = np.empty(K)
    W = np.empty((K, d, d))
    partition_stats(Z, resp, nk, means, W)
    shape[:, :] = 1.0
    orient[:, :] = np.eye(d)
    scale[:] = 1.0
    if nk.min() < EMPTY_MASS:
        return EMPTY
    weights[:] = nk / nk.sum()
    if not mstep(code, nk, W, psi, reg, cov, shape, orient, scale):
        return SINGULAR
    return OK


@njit(cache=True, nogil=True)
def responsibilities(Z, weights, means, cov, diagonal, resp):
    """Responsibilities (into ``resp``, (n, K); give (0, K) for none) and the total log-likelihood
    under given parameters.

    Returns NaN when a covariance is not positive definite.
    """
    K, d = means.shape
    prec = np.empty((K, d, d))
    logdet = np.empty(K)
    if not factorize(cov, prec, logdet):
        return np.nan
    empty1 = np.empty(K)
    empty2 = np.empty((K, d))
    empty3 = np.empty((K, d, d))
    return estep(np.ascontiguousarray(Z.T), weights, means, prec, logdet, diagonal, False, resp, empty1, empty2, empty3)


def warm_up() -> None:
    """Compile every function of the engine and hc for the argument types they are called with
    (about a minute, once: the machine code is cached on disk)."""
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(40, 2))
    psi = np.cov(Z, rowvar=False, bias=True)
    for code in range(14):
        resp = rng.dirichlet(np.ones(2), size=40)
        weights, means, cov = np.empty(2), np.empty((2, 2)), np.empty((2, 2, 2))
        shape, orient, scale = np.empty((2, 2)), np.empty((2, 2)), np.empty(2)
        start_from_responsibilities(Z, resp, code, psi, 1e-6, weights, means, cov, shape, orient, scale)
        for accelerate in (False, True):
            em(Z, code, weights.copy(), means.copy(), cov.copy(), shape, orient, scale, psi, 1e-6, 1e-3, AITKEN, 5,
               accelerate, 1e-5, 5, 0.0, np.zeros(2, np.int64), np.empty(12), np.empty((0, 2)), np.empty((0, 2, 2)),
               np.empty((0, 2, 2, 2)))
        responsibilities(Z, weights, means, cov, is_diagonal(code), resp)
        relative_smallest_variances(cov, psi)

