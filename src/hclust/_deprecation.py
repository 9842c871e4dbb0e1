"""Renamed keywords and keyword-only arguments, deprecated for one release.

hclust speaks one vocabulary (``n_clusters`` for a number of segments, ``criteria`` for
validity indices, ``height`` for a cut height, ``metric`` for a distance). A keyword
renamed to it, or an argument made keyword-only, keeps working until ``REMOVED_IN``
with a :class:`FutureWarning` that names the new spelling (scikit-learn's policy:
``FutureWarning`` is shown to end users by default). Imports nothing of hclust.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable, TypeVar, cast

__all__ = ["REMOVED_IN", "keyword_only", "renamed_keywords"]

#: The release in which the deprecated spellings stop working.
REMOVED_IN = "0.3"

F = TypeVar("F", bound=Callable[..., Any])


def _display_name(function: Callable[..., Any]) -> str:
    """How a message names the function: ``evaluate``, ``SegmentationModel.evaluate``, ``Preparer``."""
    return function.__qualname__.rsplit("<locals>.", 1)[-1].replace(".__init__", "")


def renamed_keywords(**renames: str) -> Callable[[F], F]:
    """Accept each old keyword (``old="new"``) for one release, with a FutureWarning.

    Passing both the old and the new name is a TypeError, as passing one argument twice is.

    Examples
    --------
    >>> import warnings
    >>> @renamed_keywords(k="n_clusters")
    ... def f(X, n_clusters=2):
    ...     return n_clusters
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     f(None, k=3)
    3
    >>> print(caught[0].message)
    f(k=...) is deprecated and will be removed in hclust 0.3; use n_clusters=... instead.
    """

    def decorate(function: F) -> F:
        name = _display_name(function)
        parameters = inspect.signature(function).parameters
        for old, new in renames.items():
            if new not in parameters or old in parameters:
                raise AssertionError(f"{name}: cannot rename {old!r} to {new!r}")

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{name}() got both {old}= and {new}=; {old}= is the deprecated name of {new}=, "
                            f"pass {new}= only."
                        )
                    warnings.warn(
                        f"{name}({old}=...) is deprecated and will be removed in hclust {REMOVED_IN}; "
                        f"use {new}=... instead.",
                        FutureWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return cast(F, wrapper)  # the same signature (functools.wraps)

    return decorate


def keyword_only(n_positional: int) -> Callable[[F], F]:
    """Make the arguments after the first ``n_positional`` keyword-only, for one release.

    The decorated function declares them keyword-only (after ``*``); a call that still passes
    them by position works, with a FutureWarning naming them (scikit-learn's
    ``_deprecate_positional_args``). ``self`` counts as positional for methods.

    Examples
    --------
    >>> import warnings
    >>> @keyword_only(1)
    ... def g(X, *, scale=1.0):
    ...     return X * scale
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     g(2.0, 3.0)
    6.0
    >>> print(caught[0].message)
    Pass scale=3.0 as a keyword argument to g(); by position it is deprecated and will stop working in hclust 0.3.
    """

    def decorate(function: F) -> F:
        name = _display_name(function)
        keywords = [
            p.name for p in inspect.signature(function).parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            extra = len(args) - n_positional
            if extra <= 0:
                return function(*args, **kwargs)
            if extra > len(keywords):
                raise TypeError(f"{name}() takes at most {n_positional + len(keywords)} arguments ({len(args)} given)")
            moved = dict(zip(keywords, args[n_positional:]))
            twice = sorted(set(moved) & set(kwargs))
            if twice:
                raise TypeError(f"{name}() got multiple values for argument(s) {', '.join(map(repr, twice))}")
            shown = ", ".join(f"{key}={value!r}" for key, value in moved.items())
            warnings.warn(
                f"Pass {shown} as {'keyword arguments' if len(moved) > 1 else 'a keyword argument'} to {name}(); by position it is "
                f"deprecated and will stop working in hclust {REMOVED_IN}.",
                FutureWarning,
                stacklevel=2,
            )
            return function(*args[:n_positional], **moved, **kwargs)

        return cast(F, wrapper)  # the same signature (functools.wraps)

    return decorate
