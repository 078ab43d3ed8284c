"""numpy names that ``multiad.numpy`` leaves out on purpose, with the reason.

The generated test of the namespace fails on any numpy name that is neither exported nor
listed here, so this table is complete for the numpy version the tests run with.
"""

from __future__ import annotations

_REASONS: dict[str, str] = {
    "configuration, printing, files and type introspection: not array math; use numpy": (
        "array2string array_repr array_str base_repr binary_repr format_float_positional "
        "format_float_scientific get_include get_printoptions set_printoptions printoptions "
        "getbufsize setbufsize geterr seterr geterrcall seterrcall info show_config show_runtime "
        "test load save savetxt savez savez_compressed loadtxt genfromtxt fromfile frombuffer "
        "fromiter fromregex fromstring typename mintypecode sctypeDict ScalarType typecodes "
        "little_endian False_ True_ can_cast common_type min_scalar_type promote_types "
        "result_type issubdtype isdtype iterable isscalar may_share_memory shares_memory "
        "nested_iters isfortran broadcast_shapes einsum_path"
    ),
    "other array constructors: use multiad.asarray (it converts between frameworks)": (
        "from_dlpack asanyarray ascontiguousarray asfortranarray asarray_chkfinite asmatrix bmat require matrix"
    ),
    "in-place mutation: JAX arrays are immutable and traced arrays cannot be written; use where": (
        "copyto place put put_along_axis putmask fill_diagonal"
    ),
    "datetimes": (
        "datetime_as_string datetime_data busday_count busday_offset is_busday isnat datetime64 timedelta64 "
        "busdaycalendar"
    ),
    "integer bit operations: no derivative": (
        "bitwise_and bitwise_count bitwise_invert bitwise_left_shift bitwise_not bitwise_or "
        "bitwise_right_shift bitwise_xor invert left_shift right_shift packbits unpackbits gcd lcm"
    ),
    "complex numbers: multiad differentiates real inputs only": (
        "iscomplex iscomplexobj isreal isrealobj real_if_close sort_complex"
    ),
    "output shape depends on the values: cannot be traced (jax.jit, vmap); compute indices with numpy": (
        "unique unique_all unique_counts unique_inverse unique_values intersect1d union1d "
        "setdiff1d setxor1d isin nonzero argwhere flatnonzero extract compress trim_zeros delete insert"
    ),
    "integer-valued or piecewise constant results (no derivative): use numpy on values": (
        "histogram histogram2d histogramdd histogram_bin_edges bincount digitize searchsorted "
        "lexsort argpartition nanargmax nanargmin spacing"
    ),
    # NOTE [Absent names with a derivative]: these have a derivative and are not provided; the
    # reason says what to write instead (their prefix counts them in WITH_DERIVATIVE).
    "not provided, though it has a derivative (the values rearranged, as sort's): mnp.sort(x, axis) "
    "has partition's k-th entry in place k, with its derivative": "partition",
    "not provided, though it has a derivative (its output shape is new_shape, the values repeated in order): "
    "write it with mnp.tile (or mnp.concatenate) and mnp.reshape": "resize",
    "not provided, though it has a derivative almost everywhere (the mantissa's is 2**-exponent, "
    "nextafter's is 1 in x1): compute it with numpy on values": "frexp nextafter",
    "index arrays and index expressions: build them with numpy, use them with mnp.take": (
        "diag_indices diag_indices_from tril_indices tril_indices_from triu_indices "
        "triu_indices_from mask_indices indices ix_ ravel_multi_index unravel_index index_exp s_ "
        "mgrid ogrid choose"
    ),
    "Python callbacks per element or per slice: write them with mnp operations or multiad.vmap": (
        "apply_along_axis apply_over_axes piecewise fromfunction frompyfunc vectorize"
    ),
    "legacy polynomial class helpers (numpy.polynomial): mnp.polyval is provided": (
        "poly polyadd polyder polydiv polyfit polyint polymul polysub roots polynomial poly1d"
    ),
    "constant window functions: compute them with numpy": "bartlett blackman hamming hanning kaiser",
    # numpy's submodules other than linalg (mnp.fft raised a bare AttributeError)
    "numpy.fft: complex results, and multiad differentiates real inputs only; in code for one backend, "
    "use its framework's (torch.fft, jax.numpy.fft)": "fft",
    "numpy.emath: complex results outside the real domain; mnp.sqrt, mnp.log, mnp.power, ... follow "
    "numpy's real functions": "emath",
    "random numbers have no derivative: draw them with numpy.random (or the framework's generator) "
    "and pass them to f": "random",
    "masked, string and record arrays: not supported; select with mnp.where and a boolean mask": (
        "ma char strings rec memmap recarray record object_ str_ bytes_ void flexible character"
    ),
    "numpy's internals, typing and tooling: not array math; use numpy": (
        "core lib ctypeslib dtypes exceptions f2py testing typing ufunc broadcast flatiter nditer ndenumerate ndindex"
    ),
    # NOTE [Dtype names in multiad.numpy]: numpy's concrete scalar types are exported, these not
    "numpy's array class: results are the backend's arrays (torch.Tensor, jax.Array); make arrays with "
    "mnp.asarray or multiad.asarray": "ndarray",
    "numpy's dtype class: pass numpy's scalar types as dtypes (mnp.float32 is np.float32, taken by every mnp "
    "function on every backend: mnp.astype(x, mnp.float32)) and read x.dtype of the backend's array": "dtype",
    "abstract scalar types, for numpy.issubdtype on numpy dtypes: use numpy's (np.floating); torch's dtypes "
    "answer x.dtype.is_floating_point": (
        "generic number integer signedinteger unsignedinteger inexact floating complexfloating"
    ),
    "extended precision: torch and JAX have no such dtype; use mnp.float64": "longdouble clongdouble float128 complex256",
    "numpy's floating-point error state governs numpy's own computations (torch and JAX neither warn nor raise "
    "on overflow or division by zero); use numpy.errstate around numpy code, or check with mnp.isfinite": "errstate",
    "linalg: rank-dependent or integer results": "linalg.matrix_rank",
    "not provided, though its solution has a derivative at full rank: for a full-column-rank a, "
    "mnp.linalg.solve(a.T @ a, a.T @ b) (or mnp.linalg.pinv(a) @ b) is the solution, with its derivative": "linalg.lstsq",
    "linalg: write them with reshape and inv or solve": "linalg.tensorinv linalg.tensorsolve",
    "linalg: the test runner": "linalg.test",
}

# Reasons whose names have a derivative on real arrays (the others have none, or are not math):
# docs/api-numpy.md counts coverage of numpy's differentiable names with them.
WITH_DERIVATIVE: frozenset[str] = frozenset(
    r
    for r in _REASONS
    if r.startswith(("other array", "in-place", "complex", "Python callbacks", "legacy polynomial"))
    or r.startswith(("linalg: write", "not provided, though"))
)

ABSENT: dict[str, str] = {name: reason for reason, names in _REASONS.items() for name in names.split()}


def absent_name_error(module: str, name: str) -> AttributeError:
    """The AttributeError for ``module.name`` (NOTE [Absent names say why] in multiad/numpy/__init__.py)."""
    key = name if module == "multiad.numpy" else f"{module.rpartition('.')[2]}.{name}"
    reason = ABSENT.get(key)
    message = f"module {module!r} has no attribute {name!r}"
    return AttributeError(f"{message}: {reason}" if reason else message)
