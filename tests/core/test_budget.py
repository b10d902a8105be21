"""The cost forecast and the clamp that keeps a shared link's work within its budget."""

from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_core.budget import LINK_SECONDS, MIN_MAX_ITER, clamp_to_budget, worst_fit_seconds


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(2, 2_000_000), d=st.integers(1, 40), k=st.integers(1, 15), n_init=st.integers(1, 100),
    max_iter=st.integers(1, 100_000),
)
def test_a_clamp_fits_the_budget_lowering_only_what_it_must(n, d, k, n_init, max_iter):
    clamped = clamp_to_budget(n, d, n_components=k, n_init=n_init, max_iter=max_iter)
    worst = worst_fit_seconds(n, d, n_components=clamped.n_components, n_init=clamped.n_init,
                              max_iter=clamped.max_iter)
    at_floor = (clamped.n_components, clamped.n_init) == (1, 1) and clamped.max_iter <= max(MIN_MAX_ITER, 1)
    assert worst <= LINK_SECONDS or at_floor
    assert clamped.n_components <= k and clamped.n_init <= n_init and clamped.max_iter <= max_iter
    if worst_fit_seconds(n, d, n_components=k, n_init=n_init, max_iter=max_iter) <= LINK_SECONDS:
        assert clamped.changes == ()
    else:
        assert clamped.changes  # something was lowered, and says so
    # K goes last: it is lowered only when one start of MIN_MAX_ITER iterations is still too much.
    if clamped.n_components < k:
        assert (clamped.n_init, clamped.max_iter) == (1, min(max_iter, MIN_MAX_ITER))


def test_the_hostile_link_of_the_report_is_cut_to_a_minute():
    # /?source=generate&gen_n_samples=1000000&n_components=15&n_init=100&tol=1e-12&max_iter=100000
    asked = {"n_components": 15, "n_init": 100, "max_iter": 100_000}
    assert worst_fit_seconds(1_000_000, 2, **asked) > 6 * 3600  # six hours of one core
    clamped = clamp_to_budget(1_000_000, 2, **asked)
    assert clamped.changes == (("max_iter", 100_000, 236),)
    # The app's default model on the largest generated data needs no clamp.
    assert clamp_to_budget(1_000_000, 2, n_components=3, n_init=8, max_iter=1000).changes == ()
