"""Exceptions whose messages are meant to be shown to the user as they are."""


class DataError(ValueError):
    """The input data cannot be used.

    The message says what was wrong with the data and what to do about it.
    """


class FitError(RuntimeError):
    """A mixture model cannot be fitted to the data with the requested settings.

    The message says why and which setting to change (fewer components, a larger
    ``reg_covar``, another covariance type, ...).
    """


class Stopped(Exception):
    """A computation was stopped from outside (``gmm_core.work.Work.stop``) before it finished.

    Not a ``FitError``: nothing is wrong with the data or the settings, and a
    stopped computation must not be cached as if it had an outcome.
    """
