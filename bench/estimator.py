"""The scikit-learn estimator protocol for bench's components, without importing scikit-learn.

Every method and classifier is built from keyword parameters only, as a scikit-learn estimator
is: the fields of its ``Config``, the data description (:data:`DATA_PARAMS`), ``device`` and
``random_state``. The constructor stores them and does nothing else; ``get_params``,
``set_params`` and therefore :func:`sklearn.base.clone`, ``GridSearchCV`` and pipelines work on
them. Validation happens at ``fit``, when the ``config`` property builds the ``Config`` from the
parameters.

scikit-learn and imbalanced-learn are imported only by the methods that need them (``score``,
``fit_resample``, the tags), so that ``python -m bench list`` stays instant; hence this module
implements the small protocol itself instead of inheriting ``sklearn.base.BaseEstimator``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from bench.errors import ConfigError, NotFittedError

DATA_PARAMS: dict[str, Any] = {
    "sfreq": 128.0,
    "ch_names": None,
    "grid": "deap",
    "band_names": None,
    "class_names": None,
}
"""The data description every component takes as a parameter, with its default.

``sfreq`` (Hz) defaults to DEAP's preprocessed 128 Hz; ``ch_names`` to ``ch0 .. chN`` from the
input's channel axis; ``grid`` (a key of :data:`datasets.grids.LAYOUTS`) to DEAP's 9x9 layout;
``band_names`` to none; ``class_names`` to the labels seen by ``fit``. With ``class_names`` given,
labels must be ``0 .. len(class_names) - 1`` and every class gets a column in ``predict_proba``
even when the training data lack it (the harness's case).
"""

RUN_PARAMS: dict[str, Any] = {"device": "cpu", "random_state": None}
"""Where torch components run and the seed of ``fit`` when no ``rng`` is passed."""


def config_defaults(config_cls: type) -> dict[str, Any]:
    """Every init field of a config dataclass with its default (``None`` where it has none)."""
    out = {}
    for f in dataclasses.fields(config_cls):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = None
    return out


def make_init(names: dict[str, Any]) -> Callable[..., None]:
    """A keyword-only ``__init__`` that stores each parameter under its name, with an explicit signature.

    scikit-learn reads parameter names from the signature of ``__init__`` (``get_params``, ``clone``),
    so the function carries a ``__signature__`` listing them with their defaults.
    """

    def __init__(self: Any, **params: Any) -> None:
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) {', '.join(unknown)}; "
                            f"its parameters are {', '.join(names)}")
        for name, default in names.items():
            setattr(self, name, params.get(name, default))

    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    __init__.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [self_param] + [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d) for n, d in names.items()])
    return __init__


def resolve_rng(rng: np.random.Generator | None, random_state: Any) -> np.random.Generator:
    """The generator a ``fit`` draws from: ``rng`` when given (the harness), else one from ``random_state``.

    ``random_state`` may be None (fresh entropy), an int, a numpy ``Generator`` or a legacy
    ``RandomState`` (one seed is drawn from it), as scikit-learn users pass it.
    """
    if rng is not None:
        return rng
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    if random_state is None or isinstance(random_state, (int, np.integer, np.random.Generator)):
        return np.random.default_rng(random_state)
    raise ConfigError(f"random_state must be None, an int, a numpy Generator or RandomState, got {random_state!r}")


def check_input(X: Any, who: str, where: str) -> np.ndarray:
    """Windows ``X`` as an array of shape (n, *window shape), real and finite (ValueError or TypeError otherwise).

    The messages carry scikit-learn's wording (``Reshape your data``, ``sparse``, ``Complex data not
    supported``) so that its estimator checks recognise them.
    """
    if type(X).__module__.startswith("scipy.sparse"):
        raise TypeError(f"{who}.{where}: sparse input is not supported; pass X.toarray() (windows are dense)")
    X = np.asarray(X)
    if X.dtype == object:
        X = X.astype(np.float64)  # numbers stored as objects; anything else raises TypeError naming its type
    if X.ndim < 2:
        raise ConfigError(f"{who}.{where}: expected X of shape (n, *window shape), got shape {X.shape}. Reshape your "
                          "data: X[None] for a single window, X.reshape(-1, 1) for a single feature")
    if not len(X):
        raise ConfigError(f"{who}.{where}: X has 0 windows; at least one is required")
    if np.iscomplexobj(X):
        raise ConfigError(f"{who}.{where}: Complex data not supported; give real-valued windows")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ConfigError(f"{who}.{where}: X must be numeric, got dtype {X.dtype}")
    if not np.isfinite(X).all():
        raise ConfigError(f"{who}.{where}: X holds NaN or infinite values; give finite windows")
    return X


@functools.cache
def _not_fitted_type() -> type:
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    return type("NotFittedError", (NotFittedError, SklearnNotFittedError), {"__module__": __name__})


def not_fitted_error(message: str) -> NotFittedError:
    """A :class:`bench.errors.NotFittedError` that is also scikit-learn's ``NotFittedError`` (imported only here)."""
    return _not_fitted_type()(message)


def encode_labels(y: Any, class_names: tuple[str, ...] | None, who: str) -> tuple[np.ndarray, np.ndarray]:
    """The classes and the labels as codes ``0 .. n_classes - 1``.

    With ``class_names`` the labels must already be those codes and the classes are all of them;
    otherwise the classes are the sorted distinct labels (any type scikit-learn accepts).

    Returns
    -------
    classes : ndarray, shape (n_classes,)
    codes : ndarray of int64, shape (n,)
    """
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import column_or_1d

    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    if class_names is not None:
        from bench.components import check_labels

        return np.arange(len(class_names)), check_labels(y, len(class_names), f"{who}.fit")
    classes, codes = np.unique(y, return_inverse=True)
    return classes, codes.astype(np.int64)


class Estimator:
    """Parameters as in scikit-learn: the ``Config`` fields, :data:`DATA_PARAMS` and :data:`RUN_PARAMS`.

    A subclass that sets ``Config`` gets a keyword-only ``__init__`` over those parameters
    (:meth:`param_defaults`); :meth:`from_config` builds one from a ``Config`` and a
    :class:`bench.components.DataInfo`, as the harness does.
    """

    Config: ClassVar[type]
    EXTRA_PARAMS: ClassVar[dict[str, Any]] = {}
    """Parameters a base class adds to every subclass (a sampler's ``sampling_strategy``)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in vars(cls) and hasattr(cls, "Config"):
            cls.__init__ = make_init(cls.param_defaults())  # type: ignore[method-assign]

    @classmethod
    def param_defaults(cls) -> dict[str, Any]:
        """Every constructor parameter with its default: the config's fields first."""
        config = config_defaults(cls.Config)
        clash = sorted(set(config) & (set(DATA_PARAMS) | set(RUN_PARAMS) | set(cls.EXTRA_PARAMS)))
        if clash:
            raise TypeError(f"{cls.__qualname__}.Config fields {clash} clash with the data or run parameters")
        return {**config, **DATA_PARAMS, **cls.EXTRA_PARAMS, **RUN_PARAMS}

    @classmethod
    def from_config(cls, config: Any = None, *, info: Any = None, **params: Any) -> Any:
        """An instance with the fields of ``config`` (default: ``Config()``) and the data description ``info``.

        Parameters
        ----------
        config : Config, optional
        info : bench.components.DataInfo, optional
            Spread into :data:`DATA_PARAMS`.
        **params
            Other parameters (``device``, ``random_state``, ``sampling_strategy``).
        """
        config = cls.Config() if config is None else config
        if not isinstance(config, cls.Config):
            raise ConfigError(f"{cls.__qualname__}: expected a {cls.Config.__qualname__}, got {type(config).__name__}")
        fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.init}
        data = {} if info is None else {name: getattr(info, name) for name in DATA_PARAMS}
        return cls(**fields, **data, **params)

    @property
    def config(self) -> Any:
        """The ``Config`` of the current parameters (validated: an invalid parameter raises ConfigError here)."""
        return self.Config(**{name: getattr(self, name) for name in config_defaults(self.Config)})

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their values (scikit-learn's estimator API)."""
        return {name: getattr(self, name) for name in inspect.signature(type(self).__init__).parameters
                if name != "self"}

    def set_params(self, **params: Any) -> Any:
        """Set constructor parameters by name; returns self. Values are validated at ``fit``."""
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__}: invalid parameter {name!r}; valid parameters are "
                                 f"{', '.join(sorted(valid))}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = {n: p.default for n, p in inspect.signature(type(self).__init__).parameters.items()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if k not in defaults or not _same(v, defaults[k])]
        return f"{type(self).__name__}({', '.join(changed)})"


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except (ValueError, TypeError):  # arrays
        return False


IMBLEARN_STRATEGIES = ("auto", "minority", "not minority", "not majority", "all")
"""imbalanced-learn's named over-sampling strategies; any other text is a bench policy."""


def sampling_requests(strategy: Any, labels: np.ndarray, codes: np.ndarray, classes: np.ndarray,
                      who: str) -> dict[int, int]:
    """Synthetic windows to draw per class code for a sampler's ``sampling_strategy``.

    Parameters
    ----------
    strategy : str, float, dict or callable
        imbalanced-learn's over-sampling forms (:data:`IMBLEARN_STRATEGIES`, a float ratio for two
        classes, ``{label: target count}``, a callable ``y -> dict``), or a bench augmentation
        policy (:class:`bench.policy.Policy` or its text: ``balance``, ``ratio=R``, ``counts=...``,
        ``none``), whose ``counts`` name class codes.
    labels : ndarray, shape (n,)
        The labels as given.
    codes : ndarray of int64, shape (n,)
        Their codes, indices into ``classes``.
    classes : ndarray, shape (n_classes,)

    Returns
    -------
    dict of int to int
        Windows to add for every class code.
    """
    from bench.policy import Policy

    if isinstance(strategy, (str, Policy)) and str(strategy) not in IMBLEARN_STRATEGIES:
        try:
            policy = Policy.parse(str(strategy))
        except ConfigError as e:
            raise ConfigError(f"{who}.sampling_strategy: {e}; or one of imbalanced-learn's "
                              f"{', '.join(IMBLEARN_STRATEGIES)}") from None
        return policy.requests(codes, len(classes))
    from imblearn.utils import check_sampling_strategy

    wanted = check_sampling_strategy(strategy, labels, "over-sampling")
    return {code: int(wanted.get(label, 0)) for code, label in enumerate(classes.tolist())}


SKLEARN_TABLE_CHECKS = (
    "check_classifier_data_not_an_array", "check_classifiers_classes", "check_classifiers_one_label",
    "check_classifiers_train", "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_empty_data_messages", "check_estimators_fit_returns_self",
    "check_estimators_nan_inf", "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1feature", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_n_features_in",
    "check_n_features_in_after_fitting", "check_pipeline_consistency", "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_supervised_y_2d",
)
"""scikit-learn's estimator checks that fit on a flat (n, n_features) table of a few features."""

IMBLEARN_TABLE_CHECKS = (
    "check_sampler_get_feature_names_out", "check_sampler_get_feature_names_out_pandas", "check_samplers_2d_target",
    "check_samplers_fit", "check_samplers_fit_resample", "check_samplers_list", "check_samplers_multiclass_ova",
    "check_samplers_one_label", "check_samplers_preserve_dtype", "check_samplers_sample_indices",
    "check_samplers_sampling_strategy_fit_resample",
)
"""imbalanced-learn's sampler checks that fit on a flat (n, n_features) table of a few features."""


def table_checks_fail(reason: str, checks: tuple[str, ...]) -> dict[str, str]:
    """``{check: reason}`` for a component that cannot fit the flat tables of ``checks`` (its ``estimator_xfail``)."""
    return dict.fromkeys(checks, reason)
