"""The engine's own exponential, as the E-step's loops compile it."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numba import njit

from gmm_core import kernel


@njit(fastmath=kernel._FAST)
def _exp_all(v):
    out = np.empty_like(v)
    for i in range(v.shape[0]):  # a loop the compiler vectorises, as the E-step's
        out[i] = kernel._exp_negative(v[i])
    return out


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.integers(1, 300), elements=st.floats(-60.0, 0.0)))
def test_the_exponential_is_libms_to_16_units_in_the_last_place_and_floors_at_exp_minus_40(v):
    # 16 ulp is a relative 3.6e-15: responsibilities and log-likelihoods far below any reported digit.
    ours = _exp_all(v)
    expected = np.exp(np.maximum(v, -40.0))
    assert np.all(np.abs(ours - expected) <= 16 * np.spacing(expected))


def test_the_exponential_of_zero_is_one_exactly():
    # Each row's largest term is exp(0): its sum of exponentials lies in [1, K], as the E-step assumes.
    assert _exp_all(np.zeros(300)).tolist() == [1.0] * 300
