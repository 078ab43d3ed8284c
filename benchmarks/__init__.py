"""Benchmarks of multiad against the same computations written directly for each framework.

Run with ``make bench`` (``python -m benchmarks.run``); ``--smoke`` runs every workload on tiny
sizes once. See docs/benchmarks.md for what is measured and the latest results.

NOTE [One thread]: the tutorial timings this suite compares against were taken with one
thread, and the machines it runs on are shared. The BLAS and XLA thread counts are fixed to
one here, before numpy or jax are imported by ``benchmarks.run``; torch's is set when the
frameworks are loaded (``benchmarks.frameworks``).
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
