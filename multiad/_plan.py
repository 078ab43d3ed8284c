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
"""

from __future__ import annotations

from ._backend import Backend

FWD = "forward-over-reverse"
REV = "reverse-over-reverse"


def jvp_native(b: Backend) -> bool:
    return b.has_jvp


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


def second_order(b: Backend) -> str:
    """The strategy for hessian and hvp."""
    return FWD if b.has_jvp else REV


def vhp_strategy(b: Backend) -> str:
    """The strategy for vhp (NOTE [vhp of an inexact backend])."""
    return FWD if b.has_jvp and not b.exact else REV


def linearize_by_vjp(b: Backend) -> bool:
    """Whether ``linearize`` evaluates f once and pushes tangents through the vjp of its
    pullback (NOTE [Linearize once]); an inexact backend would difference a difference."""
    return b.has_vjp and b.exact


def loop_jacfwd(b: Backend) -> bool:
    """Whether ``b``'s jacfwd is the loop of NOTE [Columns by a loop]: no jacfwd, jvp or vmap of its own."""
    return not native(b, "jacfwd") and not jvp_native(b) and not vmap_native(b)


#: NOTE [Forward mode prepared only by loops] in ``multiad/_prepared.py``: whether a backend
#: with :func:`loop_jacfwd` has taken a call in this process (set, never cleared, by ``_flat``).
LOOP_SEEN = [False]
