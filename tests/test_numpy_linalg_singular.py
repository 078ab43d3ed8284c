"""multiad.numpy.linalg at singular, degenerate and non-square matrices, against numpy itself.

numpy raises ``numpy.linalg.LinAlgError`` for ``inv``, ``solve``, ``matrix_power`` with a
negative power and ``cholesky`` where LAPACK's factorization fails (one singular matrix in a
stack is enough), and gives ``det`` 0 and ``slogdet`` (0, -inf); every array type must do the
same (NOTE [Singular matrices]).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import Case
from numpy_specs import as_kind

import multiad
import multiad.numpy as mnp

KINDS = ("numpy", "torch", "jax")  # autograd's arrays are numpy's outside its transforms

SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
MATRICES = {
    "singular": SINGULAR,
    "zero": np.zeros((3, 3)),
    "stack with one singular": np.stack([2.0 * np.eye(2), SINGULAR]),
    "rank 2 of 3": np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]]),
}
NOT_POSITIVE = {**MATRICES, "indefinite": np.array([[1.0, 2.0], [2.0, 1.0]])}


def _ones_b(a: Any) -> Any:
    return mnp.ones_like(a[..., 0])


RAISING: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "inv": (mnp.linalg.inv, np.linalg.inv),
    "solve": (lambda a: mnp.linalg.solve(a, _ones_b(a)), lambda a: np.linalg.solve(a, np.ones(a.shape[:-1]))),
    "matrix_power": (lambda a: mnp.linalg.matrix_power(a, -2), lambda a: np.linalg.matrix_power(a, -2)),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("matrix", list(MATRICES))
@pytest.mark.parametrize("name", list(RAISING))
def test_singular_matrices_raise_numpys_error(kind: str, matrix: str, name: str) -> None:
    ours, numpys = RAISING[name]
    a = MATRICES[matrix]
    with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
        numpys(a)
    with pytest.raises(np.linalg.LinAlgError, match=rf"^multiad\.numpy\.linalg\.{name}: Singular matrix"):
        ours(as_kind(kind, a))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("matrix", list(NOT_POSITIVE))
def test_cholesky_of_a_matrix_not_positive_definite_raises(kind: str, matrix: str) -> None:
    a = NOT_POSITIVE[matrix]
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        np.linalg.cholesky(a)
    with pytest.raises(
        np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.cholesky: Matrix is not positive definite"
    ):
        mnp.linalg.cholesky(as_kind(kind, a))


@pytest.mark.parametrize("name", [*RAISING, "cholesky"])
def test_singular_matrices_raise_inside_transforms(backend: Case, name: str) -> None:
    fn = RAISING[name][0] if name != "cholesky" else mnp.linalg.cholesky
    for a in (SINGULAR, MATRICES["stack with one singular"]):
        x = backend.array(a)
        with pytest.raises(np.linalg.LinAlgError, match=rf"^multiad\.numpy\.linalg\.{name}: "):
            multiad.grad(lambda v: mnp.sum(fn(v)), backend=backend.name)(x)
        with pytest.raises(np.linalg.LinAlgError, match=rf"^multiad\.numpy\.linalg\.{name}: "):
            multiad.jacrev(fn, backend=backend.name)(x)


@pytest.mark.parametrize("kind", KINDS)
def test_regular_matrices_give_numpys_values(kind: str) -> None:
    a = np.array([[[2.0, 1.0], [1.0, 3.0]], [[4.0, -1.0], [-1.0, 2.0]]])
    for ours, numpys in RAISING.values():
        np.testing.assert_allclose(multiad.to_numpy(ours(as_kind(kind, a))), numpys(a), rtol=1e-6)
    np.testing.assert_allclose(
        multiad.to_numpy(mnp.linalg.cholesky(as_kind(kind, a))), np.linalg.cholesky(a), rtol=1e-6
    )
    np.testing.assert_allclose(
        multiad.to_numpy(mnp.linalg.matrix_power(as_kind(kind, SINGULAR), 2)), SINGULAR @ SINGULAR
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("matrix", ["singular", "zero", "stack with one singular"])  # exact zero pivots
def test_det_and_slogdet_of_singular_matrices_are_numpys(kind: str, matrix: str) -> None:
    a = MATRICES[matrix]
    np.testing.assert_array_equal(multiad.to_numpy(mnp.linalg.det(as_kind(kind, a))), np.linalg.det(a))
    sign, logabs = mnp.linalg.slogdet(as_kind(kind, a))
    want = np.linalg.slogdet(a)
    np.testing.assert_array_equal(multiad.to_numpy(sign), want[0])
    np.testing.assert_array_equal(multiad.to_numpy(logabs), want[1])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky", "eigh", "eigvalsh", "eig", "eigvals"])
def test_non_square_matrices_raise_linalg_error(kind: str, name: str) -> None:
    a = np.ones((3, 2))
    with pytest.raises(np.linalg.LinAlgError):
        getattr(np.linalg, name)(a)
    with pytest.raises(np.linalg.LinAlgError, match=rf"^multiad\.numpy\.linalg\.{name}: expected square matrices"):
        getattr(mnp.linalg, name)(as_kind(kind, a))
    with pytest.raises(np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.solve: expected square"):
        mnp.linalg.solve(as_kind(kind, a), as_kind(kind, np.ones(3)))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", ["eig", "eigvals"])
def test_eig_of_non_finite_matrices_raises_as_numpy(kind: str, name: str) -> None:
    # torch's own eigvals of this matrix aborted the process inside LAPACK
    for bad in (np.nan, np.inf):
        a = np.array([[bad, 1.0], [1.0, 1.0]])
        with pytest.raises(np.linalg.LinAlgError, match="infs or NaNs"):
            getattr(np.linalg, name)(a)
        with pytest.raises(np.linalg.LinAlgError, match=rf"^multiad\.numpy\.linalg\.{name}: .*infs or NaNs"):
            getattr(mnp.linalg, name)(as_kind(kind, a))


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_svd_that_does_not_converge_raises_numpys_error(kind: str) -> None:
    a = np.array([[np.nan, 1.0], [1.0, 1.0]])
    with pytest.raises(np.linalg.LinAlgError, match="SVD did not converge"):
        np.linalg.svd(a)
    for call in (mnp.linalg.svd, mnp.linalg.pinv):
        with pytest.raises(np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.(svd|pinv): SVD did not converge"):
            call(as_kind(kind, a))


@pytest.mark.parametrize("kind", KINDS)
def test_cond_and_norm_of_degenerate_matrices_are_numpys(kind: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for a in (np.zeros((3, 3)), np.array([[np.inf, 1.0], [1.0, 1.0]])):
            want = np.linalg.cond(a)
            assert want == np.inf
            assert float(multiad.to_numpy(mnp.linalg.cond(as_kind(kind, a)))) == np.inf
    with pytest.raises(np.linalg.LinAlgError, match="empty"):
        np.linalg.cond(np.zeros((0, 0)))
    with pytest.raises(np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.cond: .*empty"):
        mnp.linalg.cond(as_kind(kind, np.zeros((0, 0))))
    for shape in ((0, 0), (2, 0, 0)):
        e = np.zeros(shape)
        np.testing.assert_array_equal(
            multiad.to_numpy(mnp.linalg.norm(as_kind(kind, e), 2, axis=(-2, -1))), 0.0 * e.sum((-2, -1))
        )
        assert np.linalg.norm(e, 2, axis=(-2, -1)).shape == shape[:-2]
        with pytest.raises(ValueError, match="zero-size"):
            np.linalg.norm(e, -2, axis=(-2, -1))
        with pytest.raises(ValueError, match=r"^multiad\.numpy\.linalg\.norm: .*zero-size"):
            mnp.linalg.norm(as_kind(kind, e), -2, axis=(-2, -1))


def test_jit_cannot_raise_and_gives_non_finite_values() -> None:
    # NOTE [Singular matrices]: under jax.jit the value is traced; the result is JAX's, not finite.
    import jax
    import jax.numpy as jnp

    assert not np.all(np.isfinite(np.asarray(jax.jit(mnp.linalg.inv)(jnp.asarray(SINGULAR)))))
    assert not np.all(np.isfinite(np.asarray(jax.jit(mnp.linalg.cholesky)(jnp.asarray(SINGULAR)))))


def test_slogdet_derivative_at_a_singular_matrix_raises(backend: Case) -> None:
    # NOTE [slogdet at a singular matrix]: logabsdet is -inf there and has no derivative.
    logabs = lambda v: mnp.linalg.slogdet(v)[1]  # noqa: E731
    if backend.name == "numpy":  # finite differences see -inf at the point, and say so
        with pytest.warns(multiad.AccuracyWarning):
            multiad.grad(logabs, backend="numpy")(SINGULAR)
    else:
        for a in (SINGULAR, MATRICES["stack with one singular"]):
            with pytest.raises(
                np.linalg.LinAlgError, match=r"^multiad\.numpy\.linalg\.slogdet: the matrix is singular"
            ):
                multiad.grad(lambda v: mnp.sum(logabs(v)), backend=backend.name)(backend.array(a))
    # away from singular matrices: the closed form inv(a).T, and det's cofactors at the singular one
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    backend.close(multiad.grad(logabs, backend=backend.name)(backend.array(a)), np.linalg.inv(a).T)
    backend.close(
        multiad.grad(mnp.linalg.det, backend=backend.name)(backend.array(SINGULAR)),
        np.array([[4.0, -2.0], [-2.0, 1.0]]),
    )


def test_slogdet_derivatives_of_regular_matrices_under_every_transform(backend: Case) -> None:
    # the check of NOTE [slogdet at a singular matrix] cannot read values under torch's vmap
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    logabs = lambda v: mnp.linalg.slogdet(v)[1]  # noqa: E731
    stack = backend.array(np.stack([a, 2.0 * a]))
    g = multiad.vmap(multiad.grad(logabs, backend=backend.name), backend=backend.name)(stack)
    backend.close(g, np.stack([np.linalg.inv(a).T, np.linalg.inv(2.0 * a).T]))
    inv = np.linalg.inv(a)
    want = -np.einsum("li,jk->ijkl", inv, inv)  # d(inv(a).T)[i, j] / da[k, l]
    backend.close(multiad.hessian(logabs, backend=backend.name)(backend.array(a)), want, order=2)
