"""How each transform is derived for a backend, decided in one place from its declarations.

NOTE [Derivation table]: a backend declares primitives (``has_vjp``, ``has_jvp``, ``has_vmap``)
and native overrides (``native``). Every choice among derivations is made here, from those
declarations, never by trying one and catching the failure:

==============  ===========================================  ===============================
transform       preferred                                    fallback
==============  ===========================================  ===============================
value_and_grad  native ``value_and_grad``                      vjp with a cotangent of one
jvp             backend ``jvp``                              vjp of the (linear) pullback
vmap            backend ``vmap`` (batches over ``loop_below``)   Python loop, then stack
chunk_size      backend ``vmap`` with ``vmap_chunks``        core splits the batch
jacrev          native ``jacrev``                            vmap of vjp over a basis
jacfwd          native ``jacfwd``                            vmap of jvp over a basis
jacobian        jacfwd for a tall Jacobian, else jacrev      the other, where the chosen one
                                                             is declared unsupported
hessian         jacfwd of jacrev (forward mode exists)       jacrev of jacrev
hvp             jvp of grad (forward-over-reverse)           vjp of grad (reverse-over-reverse)
vhp             vjp of grad (reverse-over-reverse)           inexact backends with forward
                                                             mode: the hvp path
linearize       native ``linearize``                         vjp of the pullback (exact
                                                             backends with vjp), else jvp at
                                                             the saved primals
==============  ===========================================  ===============================

NOTE [vhp of an inexact backend]: for a scalar ``f`` the Hessian is symmetric, so ``v^T H``
equals ``H v``. Reverse-over-reverse on a finite-difference backend differentiates a
finite-difference gradient by finite differences again in reverse: a full Jacobian of the
gradient, ``4 n**2`` evaluations of ``f`` for ``n`` inputs, where forward-over-reverse needs
one directional difference of the gradient, ``O(n)``. A backend with ``exact = False`` and a
forward mode therefore computes vhp on the hvp path.

NOTE [Routes around declared gaps]: ``unsupported`` names public transforms a backend cannot
do. Each public transform checks its own name (and ``jacobian`` with an explicit ``mode`` the
transform of that mode); the derivations inside another transform are not checked against
the list, but where a transform has two routes the one through a declared gap is not taken:
``jacobian(mode="auto")`` takes the other mode when its choice is declared unsupported (or is
reverse mode on a backend without ``vjp``), and Hessians, ``hvp`` and ``vhp`` go
reverse-over-reverse when ``jvp`` or ``jacfwd`` is declared unsupported. A backend with a
forward mode but no ``jacfwd`` (or reverse mode but no ``jacrev``) then still has Jacobians
and Hessians instead of refusing under another transform's name.
"""

from __future__ import annotations

from ._backend import Backend

FWD = "forward-over-reverse"
REV = "reverse-over-reverse"


def jvp_native(b: Backend) -> bool:
    return b.has_jvp


def columns_by_jvp(b: Backend, chunk_size: int | None, traced: bool) -> bool:
    """Whether a forward-mode Jacobian pushes its columns with the backend's ``jvp`` (else by
    the vjp of the linear pullback: NOTE [Chunked forward mode by the pullback] in
    ``multiad/_derive.py``)."""
    return b.has_jvp and (chunk_size is None or traced or not (b.chunks_by_pullback and b.has_vjp))


def vmap_native(b: Backend, batch: int | None = None) -> bool:
    """Whether to use the backend's ``vmap``; with ``batch`` known, a backend that declares
    ``loop_below`` (its vmap costs more than a loop over a small batch) loops up to that size."""
    return b.has_vmap and (batch is None or batch > b.loop_below)


def loops_small_batches(b: Backend) -> bool:
    """Whether the choice between ``vmap`` and a loop waits for the batch size."""
    return b.has_vmap and b.loop_below > 0


def core_chunks(b: Backend) -> bool:
    """Whether the core must split a batch for ``chunk_size`` itself."""
    return not (b.has_vmap and b.vmap_chunks)


def native(b: Backend, transform: str, chunk_size: int | None = None, traced: bool = False) -> bool:
    """Whether to use the backend's own ``transform`` (with ``chunk_size`` if one is asked for;
    while a compiler traces the call, any native override takes it: NOTE [Chunked Jacobians
    under a compiler] in ``multiad/_derive.py``)."""
    return transform in b.native and (chunk_size is None or traced or transform in b.native_chunks)


_FORWARD = frozenset({"jvp", "jacfwd"})


def _forward(b: Backend) -> bool:
    """Whether second-order transforms may go through forward mode (NOTE [Routes around declared gaps])."""
    return b.has_jvp and not (_FORWARD & b.unsupported)


def second_order(b: Backend) -> str:
    """The strategy for hessian and hvp."""
    return FWD if _forward(b) else REV


def vhp_strategy(b: Backend) -> str:
    """The strategy for vhp (NOTE [vhp of an inexact backend])."""
    return FWD if _forward(b) and not b.exact else REV


def jacobian_mode(b: Backend, n_in: int, n_out: int) -> str:
    """NOTE [Automatic mode] of ``jacobian``: ``"fwd"`` for a tall Jacobian, else ``"rev"``;
    the other where the backend cannot do the chosen one (NOTE [Routes around declared gaps])."""
    fwd_ok = "jacfwd" not in b.unsupported
    rev_ok = b.has_vjp and "jacrev" not in b.unsupported
    if n_in < n_out:
        return "fwd" if fwd_ok or not rev_ok else "rev"
    return "rev" if rev_ok or not fwd_ok else "fwd"


def linearize_by_vjp(b: Backend) -> bool:
    """Whether ``linearize`` evaluates f once and pushes tangents through the vjp of its
    pullback (NOTE [Linearize once]); an inexact backend would difference a difference."""
    return b.has_vjp and b.exact


def loop_jacfwd(b: Backend) -> bool:
    """Whether ``b``'s jacfwd is the loop of NOTE [Columns by a loop]: no jacfwd, jvp or vmap of its own."""
    return not native(b, "jacfwd") and not jvp_native(b) and not vmap_native(b)


def prepared_hessian(b: Backend, chunk_size: int | None) -> bool:
    """Whether ``b``'s hessian may be prepared (NOTE [Prepared calls] in ``multiad/_prepared.py``):
    the backend's own jacfwd of its jacrev, where the general path takes forward over reverse with
    the backend's jacrev, jvp and vmap, and no chunk_size."""
    return chunk_size is None and second_order(b) == FWD and native(b, "jacrev") and jvp_native(b) and vmap_native(b)


def prepared_jacfwd(b: Backend) -> bool:
    """Whether ``b``'s jacfwd may be prepared (NOTE [Prepared forward mode gate] in ``multiad/_prepared.py``):
    the loop of NOTE [Columns by a loop], or the backend's own native jacfwd."""
    return loop_jacfwd(b) or native(b, "jacfwd")


#: NOTE [Prepared forward mode gate] in ``multiad/_prepared.py``: whether a backend with
#: :func:`prepared_jacfwd` has taken a call in this process (set, never cleared, by ``_flat``).
JACFWD_SEEN = [False]
