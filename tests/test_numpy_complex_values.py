"""multiad.numpy functions that numpy defines through |z| or a conjugate give numpy's values for
complex arrays on every backend (sqrt(sum(z**2)) and sum(z * z) gave complex, wrong numbers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import multiad
import multiad.numpy as mnp

Z = np.array([[1 + 2j, 3 - 1j], [0, -2j]])
z = np.array([1 + 2j, 3 - 1j, -2j])

CASES: list[tuple[str, Callable[[Any], Any], Any]] = [
    # closed forms: |Z|_F = sqrt(1 + 4 + 9 + 1 + 0 + 4) = sqrt(19)
    ("norm", lambda m: m.linalg.norm(Z), np.sqrt(19.0)),
    ("norm fro", lambda m: m.linalg.norm(Z, ord="fro"), np.sqrt(19.0)),
    ("matrix_norm", lambda m: m.linalg.matrix_norm(Z), np.sqrt(19.0)),
    ("vector_norm tuple axes", lambda m: m.linalg.vector_norm(Z, axis=(0, 1)), np.sqrt(19.0)),
    ("vector_norm keepdims", lambda m: m.linalg.vector_norm(Z, axis=(0, 1), keepdims=True), [[np.sqrt(19.0)]]),
    ("vector_norm axis 0", lambda m: m.linalg.vector_norm(Z, axis=0), [np.sqrt(5.0), np.sqrt(14.0)]),
    ("vector_norm 1-d", lambda m: m.linalg.vector_norm(np.array([3j, 4.0])), 5.0),
    ("vector_norm ord 3", lambda m: m.linalg.vector_norm(np.array([3j, 4.0]), ord=3), (27.0 + 64.0) ** (1 / 3)),
    ("norm ord 2 matrix", lambda m: m.linalg.norm(Z, ord=2), np.linalg.norm(Z, ord=2)),
    ("norm nuc", lambda m: m.linalg.norm(Z, ord="nuc"), np.linalg.norm(Z, ord="nuc")),
    ("vdot", lambda m: m.vdot(np.array([1j]), np.array([1j])), 1.0 + 0j),
    ("vdot 2-d", lambda m: m.vdot(np.array([[1j, 2]]), np.array([[1j, 1]])), 3.0 + 0j),
    ("vecdot", lambda m: m.vecdot(z, z), 19.0 + 0j),
    ("linalg.vecdot", lambda m: m.linalg.vecdot(z, z), 19.0 + 0j),
    # mean 4/3 - 1/3 j; squared distances 40/9 + 49/9 + ... : numpy's var is 40/9
    ("var", lambda m: m.var(z), 40.0 / 9.0),
    ("std", lambda m: m.std(z), np.sqrt(40.0 / 9.0)),
    ("nanvar", lambda m: m.nanvar(z), 40.0 / 9.0),
    ("nanstd", lambda m: m.nanstd(z), np.sqrt(40.0 / 9.0)),
    ("cov", lambda m: m.cov(np.stack([z, 2 * z])), np.cov(np.stack([z, 2 * z]))),
    ("corrcoef", lambda m: m.corrcoef(np.stack([z, 1j * z])), np.corrcoef(np.stack([z, 1j * z]))),
    # sum z * conj(z) = |z|**2 summed = 19
    ("correlate", lambda m: m.correlate(z, z), [19.0 + 0j]),
    ("correlate full", lambda m: m.correlate(z, z[:2], "full"), np.correlate(z, z[:2], "full")),
    ("correlate swapped", lambda m: m.correlate(z[:2], z, "same"), np.correlate(z[:2], z, "same")),
]


@pytest.mark.parametrize(("name", "call", "expected"), CASES, ids=[c[0] for c in CASES])
def test_complex_values_match_numpy(backend: Any, name: str, call: Callable[[Any], Any], expected: Any) -> None:
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(call(mnp))
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-12, atol=1e-12, err_msg=name)
    assert np.iscomplexobj(got) == np.iscomplexobj(np.asarray(expected)), f"{name}: dtype {got.dtype}"


H = np.array([[2, 1 - 1j], [1 + 1j, 3]])  # Hermitian, eigenvalues 1 and 4


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("eigvalsh", lambda m: m.linalg.eigvalsh(H)),
        ("eigh", lambda m: m.linalg.eigh(H)),
        ("cholesky", lambda m: m.linalg.cholesky(H)),
        ("interp", lambda m: m.interp(np.array([0.5]), np.array([0.0, 1.0]), np.array([1j, 2.0]))),
    ],
)
def test_complex_refused_where_read_as_real(backend: Any, name: str, call: Callable[[Any], Any]) -> None:
    # eigvalsh read H as (H + H.T) / 2 (eigenvalues 1.38, 3.62 for numpy's 1, 4); interp dropped
    # the imaginary part (1 for numpy's 1 + 0.5j)
    with multiad.use_backend(backend.name), pytest.raises(TypeError, match=r"^mnp\.(linalg\.)?" + name + ": complex"):
        call(mnp)


C = np.array([[1 + 1j, 2], [0.5j, 3]])
v = np.array([3 + 4j, 1j, -1.5 + 1j])

# Closed forms: |3 + 4j| = 5, |1j| = 1, |-1.5 + 1j| = sqrt(3.25); C's moduli are
# [[sqrt(2), 2], [0.5, 3]]: column sums sqrt(2) + 0.5 and 5 (ord 1), row sums sqrt(2) + 2 and 3.5
# (ord -inf, inf), Frobenius sqrt(2 + 4 + 0.25 + 9); the condition numbers are numpy's.
ARRAY_CASES: list[tuple[str, Callable[[Any, Any], Any], Any, Any]] = [
    ("abs", lambda m, a: m.abs(a), v, [5.0, 1.0, np.sqrt(3.25)]),
    ("absolute", lambda m, a: m.absolute(a), v, [5.0, 1.0, np.sqrt(3.25)]),
    ("sum of abs", lambda m, a: m.sum(m.abs(a)), v, 6.0 + np.sqrt(3.25)),
    ("vector norm", lambda m, a: m.linalg.norm(a), v, np.sqrt(25.0 + 1.0 + 3.25)),
    ("vector norm 1", lambda m, a: m.linalg.norm(a, 1), v, 6.0 + np.sqrt(3.25)),
    ("vector norm inf", lambda m, a: m.linalg.norm(a, np.inf), v, 5.0),
    ("matrix norm fro", lambda m, a: m.linalg.norm(a, "fro"), C, np.sqrt(15.25)),
    ("matrix norm 1", lambda m, a: m.linalg.norm(a, 1), C, 5.0),
    ("matrix norm inf", lambda m, a: m.linalg.norm(a, np.inf), C, 3.5),
    ("matrix norm -inf", lambda m, a: m.linalg.norm(a, -np.inf), C, np.sqrt(2.0) + 2.0),
    *[(f"cond {p}", lambda m, a, p=p: m.linalg.cond(a, p), C, np.linalg.cond(C, p)) for p in (1, -1, np.inf, "fro")],
]


@pytest.mark.parametrize(("name", "call", "a", "expected"), ARRAY_CASES, ids=[c[0] for c in ARRAY_CASES])
def test_moduli_of_complex_backend_arrays(
    backend: Any, name: str, call: Callable[[Any, Any], Any], a: Any, expected: Any
) -> None:
    # torch cast complex tensors to numpy's float64 result dtype of abs before taking it (the real
    # part's modulus: abs(v) was [3, 0, 1.5]); JAX's abs, x * sign(x), is x**2 / |x| for complex
    # x (abs(3 + 4j) was -1.4 + 4.8j), and the norms and condition numbers built on them followed
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(call(mnp, mnp.asarray(a)))
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-12, err_msg=name)
    assert got.dtype == np.float64, f"{name}: dtype {got.dtype}"


def test_fabs_refuses_complex_backend_arrays(backend: Any) -> None:
    # numpy's fabs is not defined for complex numbers; JAX's returned a complex array
    with multiad.use_backend(backend.name), pytest.raises(TypeError, match="fabs"):
        mnp.fabs(mnp.asarray(v))


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("all", lambda m, a: m.all(a)),
        ("all axis", lambda m, a: m.all(m.reshape(a, (2, 2)), axis=1)),
        ("any", lambda m, a: m.any(a * np.array([1, 0, 0, 0]))),
        ("any where", lambda m, a: m.any(a, where=np.array([True, False, False, False]))),
    ],
    ids=["all", "all axis", "any", "any where"],
)
def test_truth_of_complex_backend_arrays(backend: Any, name: str, call: Callable[[Any, Any], Any]) -> None:
    # a complex number is true where nonzero: numpy's all([1j, 2]) is True; JAX's all and any
    # read the real parts (all gave False, any of [1j, 0, 0, 0] False)
    a = np.array([1j, 2, -1j, 3 + 1j])
    expected = call(np, a)
    with multiad.use_backend(backend.name):
        got = multiad.to_numpy(call(mnp, mnp.asarray(a)))
    np.testing.assert_array_equal(got, expected, err_msg=name)


@pytest.mark.parametrize("kind", ["numpy", "torch", "jax"])
def test_vecmat_conjugates_the_vector(kind: str) -> None:
    # numpy's vecmat is sum_i conj(v_i) A_ij: with A all ones, conj(1+2j) + conj(3-1j) + conj(-2j)
    # = 4 + 1j (without the conjugate, 4 - 1j); the second column doubles it.
    from numpy_specs import as_kind

    a = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]], dtype=complex)
    got = multiad.to_numpy(mnp.vecmat(as_kind(kind, z), as_kind(kind, a)))
    np.testing.assert_allclose(got, [4 + 1j, 8 + 2j], rtol=1e-12)
    np.testing.assert_allclose(got, np.vecmat(z, a), rtol=1e-12)


def test_float_power_of_a_real_base_and_a_complex_exponent(backend: Any) -> None:
    # numpy's float_power computes in complex128 where an argument is complex:
    # (-2)**(1 + 2j) = -2 * exp(2j * log(-2)) = -2 * exp(2j * (log 2 + i pi)); autograd's route
    # cast the exponent to float64, dropping its imaginary part (a nan and -2 for (-2)**1).
    base = np.array([-2.0, 0.5], dtype=np.float32)
    y = np.array([1 + 2j, 0.5 - 1j])
    _, _, got = multiad.vjp(lambda b: (b, mnp.float_power(b, y)), base, has_aux=True, backend=backend.name)
    got = multiad.to_numpy(got)
    want = np.exp(y * np.log(base.astype(complex)))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(got, np.float_power(base, y), rtol=1e-12)
    assert got.dtype == np.complex128


@pytest.mark.parametrize("kind", ["numpy", "torch", "jax"])
def test_sign_rint_round_of_complex_numbers(kind: str) -> None:
    # numpy 2: sign(z) = z / |z| (0 at 0); rint and round act on both parts, half to even.
    # torch refused all three ("torch.sign is not intended to support complex numbers",
    # "round_cpu" not implemented for 'ComplexDouble').
    from numpy_specs import as_kind

    w = np.array([3 - 4j, 0j, 1.5 + 2.5j, -0.25 + 0.35j])
    a = as_kind(kind, w)
    np.testing.assert_allclose(multiad.to_numpy(mnp.sign(a))[:2], [0.6 - 0.8j, 0])
    np.testing.assert_allclose(multiad.to_numpy(mnp.rint(a)), [3 - 4j, 0, 2 + 2j, 0j])
    np.testing.assert_allclose(multiad.to_numpy(mnp.round(a, 1)), [3 - 4j, 0, 1.5 + 2.5j, -0.2 + 0.4j])
    for name in ("sign", "rint", "round"):
        np.testing.assert_allclose(multiad.to_numpy(getattr(mnp, name)(a)), getattr(np, name)(w), rtol=1e-12)
