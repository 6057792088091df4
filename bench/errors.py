"""One exception hierarchy for everything bench raises on purpose.

Every message names the thing that is wrong (a file, a field, a name), the rule it broke,
the value it had and what to do about it.
"""

from __future__ import annotations


class BenchError(Exception):
    """Base class of every error bench raises on purpose."""


class ConfigError(BenchError, ValueError):
    """A configuration value breaks a rule (unknown key, wrong type, out of range)."""


class UnknownNameError(BenchError, KeyError):
    """A registry was asked for a name it does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DataNotFoundError(BenchError, FileNotFoundError):
    """A dataset's files are not where bench looked for them."""


class DataFormatError(BenchError, ValueError):
    """A data file exists but its content breaks the dataset's on-disk format."""


class UnsafePickleError(DataFormatError):
    """A pickle asked for something a DEAP ``.dat`` file never contains."""


class CacheError(BenchError, OSError):
    """The on-disk cache cannot be read or written."""


class IncompatibleError(BenchError):
    """A method's representation cannot be converted into the one a classifier consumes.

    The runner records the pair as ``not-applicable`` with this message as the reason.
    """


class MethodError(BenchError, RuntimeError):
    """An augmentation method cannot produce what it was asked for on this data."""


class LeakageError(BenchError, AssertionError):
    """A split puts the same trial or subject on both sides of a leakage-safe protocol."""


class NotFittedError(BenchError, AttributeError):
    """A component was asked to sample or predict before ``fit``."""


class StudyLockedError(BenchError):
    """Another ``bench run`` is writing the same output folder."""


class ExecutorError(BenchError, RuntimeError):
    """An executor cannot compute the study's units (a cluster that cannot be joined, a worker that kept dying)."""
