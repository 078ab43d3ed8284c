"""The jax backend's guard of ``Tracer.item`` covers its own transforms only (NOTE [item() of a
traced value]): a package whose name merely starts with ``multiad_jax`` (a third-party plugin,
``multiad_jaxfwd``) was taken for the backend, and its transforms met an error class no plugin
doc names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("jax")


def test_item_guard_ignores_other_packages_with_the_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from multiad_jax import JaxBackend

    JaxBackend().load()  # installs the guard
    (tmp_path / "multiad_jaxlike.py").write_text(
        "import jax\n\n\ndef grad_through_item(x):\n    return jax.grad(lambda t: t * t.item())(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "multiad_jaxlike", raising=False)
    import multiad_jaxlike

    # JAX's own item() runs: the number, the derivative through it dropped (d/dt t * 3.0 = 3.0).
    assert float(multiad_jaxlike.grad_through_item(3.0)) == 3.0


def test_item_guard_still_refuses_inside_the_backends_transforms() -> None:
    import jax.numpy as jnp

    import multiad

    with pytest.raises(multiad.NonDifferentiableError, match=r"x\.item\(\)"):
        multiad.grad(lambda t: t * t.item(), backend="jax")(jnp.asarray(3.0))
