"""Chunked Jacobians and chunked vmaps as one loop of the framework's, for a program being traced (NOTE [Rolled chunks]; NOTE [Rolled vmap chunks]).

NOTE [Rolled chunks]: under a compiler that traces the program it runs (``jax.jit``), the Python
loop over the chunks of a chunked Jacobian (NOTE [Chunked Jacobians] in ``multiad/_derive.py``)
is unrolled into the program: ``n / chunk_size`` copies of ``f``'s vjp or jvp, written one after
another into the block. Measured with JAX at ``n = 1000`` and chunks of 10: 804 jaxpr equations
and 11 s to lower and compile, against 11 equations and 1.3 s for ``lax.map``; and XLA's buffer
plan of the unrolled program (``memory_analysis``, output plus temporaries) held twice the
Jacobian at ``n = 2000`` with chunks of 100, as much as the unchunked ``jax.jacrev``, where the
same chunks in a ``lax.fori_loop`` hold 1.1 times it. A backend declaring ``rolls_chunks`` runs
the chunks through :meth:`Backend.loop_chunks`, the framework's loop (JAX: ``lax.fori_loop``),
whenever a new array is traced (the basis would be abstract): the blocks are allocated in their
final shape and carried through the loop, and each chunk is written into them at its start
(``Backend.write``, ``Backend.write_columns``; ``dynamic_update_slice``, which XLA performs in
place on a loop's carry). The program then has one copy of the chunk's computation per leaf,
whatever ``n`` and ``chunk_size``. Every chunk has ``chunk_size`` basis rows: the last one,
where ``chunk_size`` does not divide the leaf's size, starts ``chunk_size`` before its end and
recomputes a part of the chunk before it (fewer than ``chunk_size`` rows, as a padded last chunk
would push). The chunks run per leaf (per output leaf for reverse mode, per input leaf for
forward mode), so that each chunk's start, a traced integer in the loop, indexes a single block
row or column range; a leaf smaller than ``chunk_size`` is one chunk of its own size. The
forward-mode loop pushes its first chunk outside the loop: its results give the blocks' shapes
and dtypes, and, with ``has_aux``, the aux of the derivative's evaluation (NOTE [Aux of the
derivative's evaluation] in ``multiad/_derive.py``), which a loop body could not hand out. Eager
calls, and frameworks whose calls are not traced, keep the Python loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ._backend import Backend
from ._ops import do

Push = Callable[..., tuple[Any, ...]]


def rolls(b: Backend, chunk_size: int | None, total: int, like: Any) -> bool:
    """Whether a Jacobian with ``total`` basis vectors over chunks of ``chunk_size`` runs as a
    loop of the framework's (NOTE [Rolled chunks])."""
    return b.rolls_chunks and chunk_size is not None and total > chunk_size and b.is_traced(b.zeros((0,), like))


def _size(x: Any) -> int:
    return _count(x.shape)


def _basis(b: Backend, leaves: Sequence[Any], k: int, rows: Any, chunk: int) -> list[Any]:
    """A chunk of basis vectors over ``leaves`` that are ``rows`` (``chunk`` by ``size(leaves[k])``)
    on leaf ``k`` and zero on the others."""
    return [
        do("reshape", rows, (chunk, *x.shape)) if j == k else b.zeros((chunk, *(int(d) for d in x.shape)), x)
        for j, x in enumerate(leaves)
    ]


def jacrev(b: Backend, push: Push, outs: Sequence[Any], primals: Sequence[Any], chunk_size: int) -> list[list[Any]]:
    """Blocks ``[i][j]`` (``outs[i].shape + primals[j].shape``) of a reverse-mode Jacobian:
    ``push`` (a vmap of the pullback over cotangents, one per output leaf) of each chunk of the
    basis, written in place in a loop of the framework's."""
    in_sizes = [_size(p) for p in primals]
    blocks: list[list[Any]] = []
    for i, o in enumerate(outs):
        m = _size(o)
        init = [b.zeros(tuple(o.shape) + tuple(p.shape), p) for p in primals]
        if m == 0:
            blocks.append(init)
            continue
        chunk = min(chunk_size, m)

        def body(start: Any, rows: Any, carry: list[Any], i: int = i, m: int = m, chunk: int = chunk) -> list[Any]:
            got = push(*_basis(b, outs, i, rows, chunk))
            return [
                b.write(blk, (m, n), (start, 0), do("reshape", g, (chunk, n)))
                for blk, g, n in zip(carry, got, in_sizes)
            ]

        blocks.append(b.loop_chunks(m, chunk, body, init, o))
    return blocks


def jacfwd(b: Backend, push: Push, primals: Sequence[Any], chunk_size: int) -> list[list[Any]]:
    """Blocks ``[i][j]`` (``out_i.shape + primals[j].shape``) of a forward-mode Jacobian:
    ``push`` (a vmap of the jvp over tangents, one per primal leaf) of each chunk of the basis,
    written in place in a loop of the framework's; the first chunk is pushed before the loop
    (NOTE [Rolled chunks])."""
    sizes = [_size(p) for p in primals]
    first = next(j for j, n in enumerate(sizes) if n)
    chunk0 = min(chunk_size, sizes[first])
    rows0 = b.identity_block((0, chunk0), (0, sizes[first]), primals[first])
    got0 = push(*_basis(b, primals, first, rows0, chunk0))
    out_shapes = [tuple(int(d) for d in g.shape[1:]) for g in got0]
    out_sizes = [_count(s) for s in out_shapes]
    blocks = [[b.zeros(s + tuple(p.shape), g) for p in primals] for g, s in zip(got0, out_shapes)]
    for i, g in enumerate(got0):
        cols = do("reshape", g, (chunk0, out_sizes[i]))
        blocks[i][first] = b.write_columns(blocks[i][first], (out_sizes[i], sizes[first]), (0, 0), cols)
    del got0
    for j, p in enumerate(primals):
        n = sizes[j]
        if n == 0:
            continue
        chunk = min(chunk_size, n)

        def body(start: Any, rows: Any, carry: list[Any], j: int = j, n: int = n, chunk: int = chunk) -> list[Any]:
            got = push(*_basis(b, primals, j, rows, chunk))
            return [
                b.write_columns(blk, (m, n), (0, start), do("reshape", g, (chunk, m)))
                for blk, g, m in zip(carry, got, out_sizes)
            ]

        column = b.loop_chunks(n, chunk, body, [row[j] for row in blocks], p, 1 if j == first else 0)
        for i, blk in enumerate(column):
            blocks[i][j] = blk
    return blocks


# NOTE [Rolled vmap chunks]: a chunked vmap (``multiad.vmap(f, chunk_size=k)``) traced by
# such a compiler unrolled the same way: ``n / k`` copies of the batched ``f`` in the program,
# joined by one concatenate of all of them (JAX, n = 1000, k = 10: the program and its compile
# time grew with ``n``). Where the Jacobians roll (:func:`rolls`), the chunks of the batch run
# through :meth:`Backend.loop_chunks` too: each chunk of every batched argument is read at the
# loop's start with :meth:`Backend.read_chunk` (JAX: ``dynamic_slice``), the unbatched ones are
# passed as they are, and each output, batched along axis 0 (the core moves it to ``out_dims``
# afterwards, once), is written at that start into a block of its final shape, the loop's carry
# (:meth:`Backend.write`, viewing the block as batch by the rest). As with the forward-mode
# Jacobian, the first chunk runs before the loop: its outputs give the blocks' number, shapes and
# dtypes, which the loop's carry must have before the loop. The last chunk overlaps the one
# before it where ``k`` does not divide ``n`` and writes the same values again over the overlap;
# no chunk is padded. The rows of the identity that the loop hands each chunk are not read (a
# computation XLA drops from the loop). Eager calls keep the Python loop and its one concatenate.
def vmap(
    b: Backend, inner: Callable[..., Any], args: Sequence[Any], in_axes: Sequence[int | None], total: int, chunk: int
) -> tuple[Any, ...]:
    """The outputs, batched along axis 0, of ``inner`` (a vmap of ``f``) over a batch of
    ``total``, ``chunk`` at a time, in a loop of the framework's (NOTE [Rolled vmap chunks])."""

    def run(start: Any) -> tuple[Any, ...]:
        return tuple(inner(*[a if ax is None else b.read_chunk(a, ax, start, chunk) for a, ax in zip(args, in_axes)]))

    got0 = run(0)
    rests = [_count(g.shape[1:]) for g in got0]
    blocks = [
        b.write(b.zeros((total, *(int(d) for d in g.shape[1:])), g), (total, m), (0, 0), do("reshape", g, (chunk, m)))
        if m
        else b.zeros((total, *(int(d) for d in g.shape[1:])), g)
        for g, m in zip(got0, rests)
    ]
    del got0

    def body(start: Any, rows: Any, carry: list[Any]) -> list[Any]:
        got = run(start)
        return [
            b.write(blk, (total, m), (start, 0), do("reshape", g, (chunk, m))) if m else blk
            for blk, g, m in zip(carry, got, rests)
        ]

    like = next(a for a, ax in zip(args, in_axes) if ax is not None)
    return tuple(b.loop_chunks(total, chunk, body, blocks, like, 1))


def _count(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
