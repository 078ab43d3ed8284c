"""Custom rules of another framework met inside f, refused.

NOTE [JAX custom rules under finite differences]: a ``jax.custom_vjp`` or ``jax.custom_jvp``
function called on numpy arrays, outside any JAX trace, simply runs its primal code and returns
numpy arrays, so the numpy backend differentiated it by finite differences with its rule
silently ignored: ``grad`` of ``sum(f(x))`` with ``f(x) = x**2`` and the rule ``g * 100`` gave
``[2, 4]`` for ``[100, 100]``, without an error (only without JAX's x64 mode an accuracy warning
appeared, for another reason). multiad's own ``custom_vjp``/``custom_jvp`` raise on this backend
(NOTE [Backends without custom rules] in ``multiad/_custom_state.py``); these are refused the
same way. No array of JAX's reaches the backend, so the call itself is what is watched: while
the outermost level evaluates ``f`` the first time, at the primals (a nested level runs inside
that evaluation), a profile function (``sys.setprofile``, this thread only) looks for a call of
the two classes' ``__call__``; one found raises UnsupportedOperationError after ``f`` returns.
The watch runs only where JAX is imported, costs one slower evaluation of ``f`` out of the
4 per column of a differentiation, and only on this backend. Where a profiler is already
installed (``cProfile``) it is left alone and the watch does not run. A rule defined with an
``autograd.extend.primitive`` is not detected (every ``autograd.numpy`` function is one too).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

import multiad


def _rule_codes() -> dict[CodeType, str]:
    """The code of ``jax.custom_vjp.__call__`` and ``jax.custom_jvp.__call__``, with their names
    (empty where JAX is not imported or names them otherwise)."""
    module = sys.modules.get("jax")
    codes: dict[CodeType, str] = {}
    for name in ("custom_vjp", "custom_jvp"):
        cls = getattr(module, name, None)
        call = vars(cls).get("__call__") if isinstance(cls, type) else None
        code = getattr(inspect.unwrap(call), "__code__", None) if callable(call) else None
        if isinstance(code, CodeType):
            codes[code] = f"jax.{name}"
    return codes


_codes: dict[CodeType, str] | None = None


def watched(call: Callable[[], str], fn: Callable[[], Any]) -> Any:
    """``fn()``, raising where it called a JAX custom-rule function (NOTE [JAX custom rules under
    finite differences]), also where ``fn`` raised after that call (a JAX array ``f`` returned);
    ``call()`` names the transform."""
    global _codes
    if "jax" not in sys.modules or sys.getprofile() is not None:
        return fn()
    if not _codes:
        _codes = _rule_codes()
    codes = _codes
    found: list[tuple[str, str]] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code in codes and not found:
            rule = frame.f_locals.get("self")
            found.append((codes[frame.f_code], str(getattr(rule, "__name__", None) or "a function")))

    sys.setprofile(profile)
    try:
        result = fn()
    except Exception as exc:
        if found:
            raise _refused(call(), *found[0]) from exc
        raise
    finally:
        sys.setprofile(None)
    if found:
        raise _refused(call(), *found[0])
    return result


def _refused(call: str, kind: str, name: str) -> multiad.UnsupportedOperationError:
    return multiad.UnsupportedOperationError(
        f"{call}: f calls {name!r}, a {kind} function, and the numpy backend's finite differences would "
        f"differentiate its code with its rule ignored; select backend='jax' (or multiad.use_backend('jax')), "
        f"or define the rule with multiad.{kind.partition('.')[2]}, which the torch, jax and autograd "
        "backends honour (docs/custom-rules.md)"
    )
