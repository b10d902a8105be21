from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from gmm_core import MODELS, covariance_terms, ellipse_points, example_covariances, fit_gmm, marginal


@st.composite
def gaussians_2d(draw):
    """A mean and a random positive-definite covariance, over many orders of magnitude."""
    scale = 10.0 ** draw(st.floats(-6, 9))
    angle = draw(st.floats(0, np.pi))
    axes = np.array([draw(st.floats(0.01, 1.0)), draw(st.floats(0.01, 1.0))]) * scale
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mean = np.array([draw(st.floats(-1e3, 1e3)), draw(st.floats(-1e3, 1e3))]) * scale
    return mean, rotation @ np.diag(axes**2) @ rotation.T


def squared_mahalanobis(points, mean, covariance):
    diff = points - mean
    return np.einsum("ij,ij->i", diff @ np.linalg.inv(covariance), diff)


@given(gaussians_2d(), st.floats(0.01, 0.999))
def test_boundary_holds_the_requested_mass(gaussian, mass):
    mean, covariance = gaussian
    points = ellipse_points(mean, covariance, mass=mass)
    assert points.shape == (100, 2)
    np.testing.assert_allclose(squared_mahalanobis(points, mean, covariance), stats.chi2.ppf(mass, 2), rtol=1e-6)
    np.testing.assert_allclose(points[0], points[-1])


@given(gaussians_2d(), st.sampled_from([1.0, 2.0, 3.0]))
def test_sigma_level_is_a_mahalanobis_radius(gaussian, sigma):
    mean, covariance = gaussian
    points = ellipse_points(mean, covariance, sigma=sigma, n_points=37)
    assert points.shape == (37, 2)
    np.testing.assert_allclose(squared_mahalanobis(points, mean, covariance), sigma**2, rtol=1e-6)


def test_diag_ellipses_are_axis_aligned_and_spherical_ones_circles(blobs):
    diag = fit_gmm(blobs, n_components=3, covariance_type="diag", n_init=1)
    for mean, covariance in zip(diag.means, diag.covariances):
        points = ellipse_points(mean, covariance, sigma=1.0, n_points=401) - mean
        # The widest point in x lies on the horizontal axis through the mean, and vice versa.
        assert abs(points[np.argmax(points[:, 0]), 1]) < 1e-9 * np.abs(points).max()
        assert abs(points[np.argmax(points[:, 1]), 0]) < 1e-9 * np.abs(points).max()
        assert points[:, 0].max() == pytest.approx(np.sqrt(covariance[0, 0]), rel=1e-4)
    spherical = fit_gmm(blobs, n_components=3, covariance_type="spherical", n_init=1)
    for mean, covariance in zip(spherical.means, spherical.covariances):
        radii = np.linalg.norm(ellipse_points(mean, covariance, mass=0.9) - mean, axis=1)
        np.testing.assert_allclose(radii, radii[0], rtol=1e-12)


def test_marginal_is_the_sub_block_of_each_component():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(2, 4))
    factors = rng.normal(size=(2, 4, 4))
    covariances = factors @ factors.transpose(0, 2, 1)
    m, c = marginal(means, covariances, (3, 1))
    np.testing.assert_array_equal(m, means[:, [3, 1]])
    np.testing.assert_array_equal(c[1], covariances[1][np.ix_([3, 1], [3, 1])])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mass": 1.0}, r"mass must be in \(0, 1\); got 1.0."),
        ({"mass": None, "sigma": -1.0}, "sigma must be a finite float > 0; got -1.0."),
        ({"mass": None}, "Give exactly one of mass and sigma."),
        ({"n_points": 2}, "n_points must be >= 3; got 2."),
    ],
)
def test_invalid_ellipse_requests(options, message):
    with pytest.raises(ValueError, match=message):
        ellipse_points(np.zeros(2), np.eye(2), **options)


# Volume, shape and orientation ----------------------------------------------------------------

IRIS = np.loadtxt(Path(__file__).resolve().parents[1] / "data" / "mclust" / "iris.csv", delimiter=",", skiprows=1)


def shared(values: np.ndarray) -> bool:
    """Every component has the same value (to rounding)."""
    return np.allclose(values, values[:1], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_each_fitted_model_shares_exactly_the_terms_its_letters_say(model):
    result = fit_gmm(IRIS, n_components=3, covariance_type=model)
    terms = covariance_terms(result.covariances, model)
    volume, shape, orientation = model
    # The terms rebuild every covariance: volume x D diag(shape) D'.
    rebuilt = np.einsum("k,kij,kj,klj->kil", terms.volume, terms.orientation, terms.shape, terms.orientation)
    np.testing.assert_allclose(rebuilt, result.covariances, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(np.prod(terms.shape, axis=1), 1.0, rtol=1e-9)
    assert shared(terms.volume) == (volume == "E")
    if shape == "I":
        np.testing.assert_allclose(terms.shape, 1.0, rtol=1e-9)
    else:
        assert shared(terms.shape) == (shape == "E")
    if orientation == "I":
        np.testing.assert_array_equal(terms.orientation, np.broadcast_to(np.eye(4), (3, 4, 4)))
    elif orientation == "E":
        assert shared(np.abs(terms.orientation))  # axes agree up to their sign
    else:
        assert not shared(np.abs(terms.orientation))


@pytest.mark.parametrize("model", MODELS)
def test_the_picture_of_a_model_varies_exactly_the_terms_it_may(model):
    terms = covariance_terms(example_covariances(model), model)
    volume, shape, orientation = model
    assert shared(terms.volume) == (volume == "E")
    assert shared(terms.shape) == (shape != "V")
    assert shared(np.abs(terms.orientation)) == (orientation != "V" or shape == "I")


def test_the_mixture_density_integrates_to_one_and_its_terms_are_the_components():
    from gmm_core.geometry import log_mixture_density, weighted_log_densities

    weights, means = np.array([0.3, 0.7]), np.array([[0.0, 0.0], [3.0, 1.0]])
    covariances = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.4, 0.0], [0.0, 2.0]]])
    g = np.linspace(-8, 10, 361)
    grid = np.column_stack([np.repeat(g, len(g)), np.tile(g, len(g))])
    density = np.exp(log_mixture_density(grid, weights, means, covariances))
    assert density.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=1e-6)
    terms = np.exp(weighted_log_densities(grid[:5], weights, means, covariances))
    assert terms.shape == (5, 2)
    expected = weights[1] * stats.multivariate_normal(means[1], covariances[1]).pdf(grid[:5])
    np.testing.assert_allclose(terms[:, 1], expected, rtol=1e-12)
