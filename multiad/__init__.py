"""multiad: one automatic-differentiation API over several frameworks.

Select a backend with :func:`set_backend` or :func:`use_backend` (or let multiad infer it from
the arrays you pass), write functions once with :mod:`multiad.numpy`, and use the transforms
below on any backend. Importing multiad imports no framework.
"""

from ._api_ad import grad as grad
from ._api_ad import jvp as jvp
from ._api_ad import linearize as linearize
from ._api_ad import value_and_grad as value_and_grad
from ._api_ad import vjp as vjp
from ._api_jac import hessian as hessian
from ._api_jac import hvp as hvp
from ._api_jac import jacfwd as jacfwd
from ._api_jac import jacobian as jacobian
from ._api_jac import jacrev as jacrev
from ._api_jac import vhp as vhp
from ._api_vmap import vmap as vmap
from ._arrays import asarray as asarray
from ._arrays import to_numpy as to_numpy
from ._backend import API_VERSION as API_VERSION
from ._backend import Backend as Backend
from ._custom import custom_jvp as custom_jvp
from ._custom import custom_vjp as custom_vjp
from ._errors import AccuracyWarning as AccuracyWarning
from ._errors import BackendError as BackendError
from ._errors import InvalidArgumentError as InvalidArgumentError
from ._errors import InvalidTypeError as InvalidTypeError
from ._errors import MixedBackendError as MixedBackendError
from ._errors import MultiADError as MultiADError
from ._errors import NonDifferentiableError as NonDifferentiableError
from ._errors import UnsupportedOperationError as UnsupportedOperationError
from ._info import list_backends as list_backends
from ._info import register_backend as register_backend
from ._select import get_backend as get_backend
from ._select import set_backend as set_backend
from ._select import use_backend as use_backend
from ._tree import register_dataclass as register_dataclass
from ._tree import register_pytree_node as register_pytree_node
from ._tree_api import tree_flatten as tree_flatten
from ._tree_api import tree_leaves as tree_leaves
from ._tree_api import tree_map as tree_map
from ._tree_api import tree_structure as tree_structure
from ._tree_api import tree_unflatten as tree_unflatten
from ._version import __version__ as __version__

__all__ = [
    "API_VERSION",
    "AccuracyWarning",
    "Backend",
    "BackendError",
    "InvalidArgumentError",
    "InvalidTypeError",
    "MixedBackendError",
    "MultiADError",
    "NonDifferentiableError",
    "UnsupportedOperationError",
    "__version__",
    "asarray",
    "custom_jvp",
    "custom_vjp",
    "get_backend",
    "grad",
    "hessian",
    "hvp",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "linearize",
    "list_backends",
    "register_backend",
    "register_dataclass",
    "register_pytree_node",
    "set_backend",
    "to_numpy",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
    "use_backend",
    "value_and_grad",
    "vhp",
    "vjp",
    "vmap",
]
