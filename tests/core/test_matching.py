from itertools import permutations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from gmm_core import fit_gmm, load_dataset
from gmm_core.matching import match_components, match_labels


def random_components(seed, k, d):
    """Well-separated means and random positive-definite covariances."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=10.0, size=(k, d))
    factors = rng.normal(size=(k, d, d))
    covariances = factors @ factors.transpose(0, 2, 1) + 0.1 * np.eye(d)
    return means, covariances


components = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 4))


@given(components, st.randoms(use_true_random=False), st.booleans())
def test_a_permutation_of_the_same_components_is_undone(spec, random, with_covariances):
    means, covariances = random_components(*spec)
    order = list(range(len(means)))
    random.shuffle(order)
    shapes = dict(previous_covariances=covariances, new_covariances=covariances[order]) if with_covariances else {}
    np.testing.assert_array_equal(match_components(means, means[order], **shapes), order)


@given(components, st.integers(0, 8), st.integers(0, 2**32 - 1))
def test_slots_are_distinct_and_old_slots_carry_over(spec, k_new, seed):
    seed_old, k_old, d = spec
    previous, _ = random_components(seed_old, k_old, d)
    new, _ = random_components(seed, max(k_new, 1), d)
    rng = np.random.default_rng(seed)
    previous_slots = rng.choice(2 * k_old + 2, size=k_old, replace=False)
    slots = match_components(previous, new, previous_slots=previous_slots)
    assert len(set(slots)) == len(slots) == len(new)
    assert (slots >= 0).all()
    if len(new) <= k_old:
        assert set(slots) <= set(previous_slots)  # shrinking never invents a colour
    else:
        assert set(previous_slots) <= set(slots)  # growing keeps every old colour
        fresh = sorted(set(slots) - set(previous_slots))
        unused = [s for s in range(len(new) + k_old) if s not in set(previous_slots)]
        assert fresh == unused[: len(fresh)]  # the smallest free colours


@given(components, st.lists(st.floats(1e-3, 1e3), min_size=4, max_size=4), st.randoms(use_true_random=False))
def test_matching_does_not_depend_on_the_units_of_the_columns(spec, units, random):
    means, covariances = random_components(*spec)
    scale = np.array(units[: means.shape[1]])
    noisy = means + np.random.default_rng(spec[0]).normal(scale=3.0, size=means.shape)
    order = list(range(len(means)))
    random.shuffle(order)
    for shapes in ({}, dict(previous_covariances=covariances, new_covariances=covariances[order])):
        plain = match_components(means, noisy[order], **shapes)
        if shapes:
            shapes = {key: value * np.outer(scale, scale) for key, value in shapes.items()}
        rescaled = match_components(means * scale, noisy[order] * scale, **shapes)
        np.testing.assert_array_equal(plain, rescaled)


def test_when_k_shrinks_the_survivors_keep_their_slots():
    means, covariances = random_components(3, 5, 2)
    survivors = [4, 0, 2]
    np.testing.assert_array_equal(match_components(means, means[survivors]), survivors)
    np.testing.assert_array_equal(
        match_components(means, means[survivors], previous_covariances=covariances,
                         new_covariances=covariances[survivors]),
        survivors,
    )


def test_when_k_grows_new_components_get_new_slots():
    means, _ = random_components(5, 3, 2)
    grown = np.vstack([means[[2, 0]], [[100.0, 100.0]], means[[1]]])
    np.testing.assert_array_equal(match_components(means, grown), [2, 0, 3, 1])
    # A chain of changes: the earlier colours 0, 2 and 5 stay; 1 is free again.
    np.testing.assert_array_equal(match_components(means, grown, previous_slots=[5, 0, 2]), [2, 5, 1, 0])


def test_covariances_tell_apart_components_with_the_same_mean():
    means = np.zeros((2, 2))
    covariances = np.array([[[4.0, 0.0], [0.0, 0.1]], [[0.1, 0.0], [0.0, 4.0]]])
    new_covariances = covariances[::-1] * 1.1
    assert list(match_components(means, means, previous_covariances=covariances,
                                 new_covariances=new_covariances)) == [1, 0]


@pytest.mark.parametrize("use_covariances", [False, True])
def test_colours_follow_components_across_covariance_types_and_seeds(blobs, use_covariances):
    full = fit_gmm(blobs, n_components=3, covariance_type="full", n_init=1, random_state=0, init_params="kmeans")
    spherical = fit_gmm(blobs, n_components=3, covariance_type="spherical", n_init=1, random_state=1,
                        init_params="kmeans")
    shapes = dict(previous_covariances=full.covariances, new_covariances=spherical.covariances)
    slots = match_components(full.means, spherical.means, **(shapes if use_covariances else {}))
    assert list(slots) != [0, 1, 2]  # these seeds number the blobs differently
    # Each new component takes the colour of the old component sharing most of its points.
    for k, slot in enumerate(slots):
        assert np.bincount(full.labels[spherical.labels == k], minlength=3).argmax() == slot


def test_bad_component_arrays_are_refused():
    means = np.zeros((2, 2))
    with pytest.raises(ValueError, match="same number of features; got 2 and 3"):
        match_components(means, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="given together or not at all"):
        match_components(means, means, previous_covariances=np.stack([np.eye(2)] * 2))
    with pytest.raises(ValueError, match="previous_slots must be 2 distinct integers >= 0"):
        match_components(means, means, previous_slots=[1, 1])
    with pytest.raises(ValueError, match="new_covariances must be symmetric positive definite"):
        match_components(means, means, previous_covariances=np.stack([np.eye(2)] * 2),
                         new_covariances=np.stack([np.eye(2), -np.eye(2)]))


def test_relabelled_truth_is_matched_perfectly():
    iris = load_dataset("iris")
    species = iris["species"].to_numpy()
    predicted = np.select([species == "setosa", species == "versicolor"], [2, 0], 1)
    match = match_labels(species, predicted)
    assert match.mapping == {0: "versicolor", 1: "virginica", 2: "setosa"}
    assert match.adjusted_rand_index == 1.0
    assert match.accuracy == 1.0
    assert not match.mismatched.any()
    assert list(match.confusion.index) == ["setosa", "versicolor", "virginica"]
    assert list(match.confusion.columns) == [2, 0, 1]
    np.testing.assert_array_equal(match.confusion.to_numpy(), np.diag([50, 50, 50]))


@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(1, 4), st.integers(1, 40))
def test_the_matching_puts_the_most_points_on_the_diagonal(seed, n_classes, n_components, n):
    rng = np.random.default_rng(seed)
    truth = rng.choice(["a", "b", "c", "d"][:n_classes], size=n)
    predicted = rng.integers(0, n_components, size=n)
    match = match_labels(truth, predicted)
    classes, components = list(match.confusion.index), list(match.confusion.columns)
    counts = match.confusion.to_numpy()
    matched = sum(counts[classes.index(c), components.index(k)] for k, c in match.mapping.items() if c is not None)
    # Brute force over every one-to-one pairing of components with classes.
    best = max(
        sum(counts[i, components.index(k)] for i, k in enumerate(chosen))
        for chosen in permutations(components, min(len(classes), len(components)))
    ) if len(components) >= len(classes) else max(
        sum(counts[classes.index(c), j] for j, c in enumerate(chosen))
        for chosen in permutations(classes, len(components))
    )
    assert matched == best
    assert (~match.mismatched).sum() == matched
    assert counts.sum() == n
    expected = np.array([match.mapping[k] != t for k, t in zip(predicted.tolist(), truth)])
    np.testing.assert_array_equal(match.mismatched, expected)
    assert match.adjusted_rand_index == pytest.approx(adjusted_rand_score(truth, predicted))
    # Matched components come in the order of their classes, left-over ones after them.
    matched_classes = [match.mapping[k] for k in components]
    paired = [c for c in matched_classes if c is not None]
    assert paired == sorted(paired) and matched_classes[: len(paired)] == paired
    if len(components) >= len(classes):
        assert paired == classes  # every class has its component on the diagonal


def test_more_components_than_classes_leaves_some_unmatched():
    truth = np.array([0, 0, 0, 1, 1, 1])
    predicted = np.array([5, 5, 7, 6, 6, 6])
    match = match_labels(truth, predicted)
    assert match.mapping == {5: 0, 6: 1, 7: None}
    np.testing.assert_array_equal(match.mismatched, [False, False, True, False, False, False])
    assert list(match.confusion.columns) == [5, 6, 7]
    assert match.confusion.shape == (2, 3)


def test_bad_label_arrays_are_refused():
    with pytest.raises(ValueError, match="same length"):
        match_labels([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="missing values"):
        match_labels([1.0, np.nan], [0, 1])


@given(st.floats(-3, 3), st.floats(0.1, 10), st.floats(0, 2 * np.pi))
def test_a_mean_moved_along_its_own_axis_moves_that_many_standard_deviations(steps, scale, angle):
    from gmm_core.matching import mean_shifts

    axis = np.array([np.cos(angle), np.sin(angle)])
    covariance = scale**2 * np.outer(axis, axis) + 1e-2 * np.outer(axis[::-1] * [1, -1], axis[::-1] * [1, -1])
    before = np.array([[1.0, -2.0]])
    after = before + steps * scale * axis
    np.testing.assert_allclose(mean_shifts(before, covariance[None], after), [abs(steps)], rtol=1e-8, atol=1e-9)
