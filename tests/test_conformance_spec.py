"""The conformance suite's ``module:object`` backends load under the registry's protection
(NOTE [Interrupts from plugins]): whatever their code raises becomes a BackendError that names
the spec, and a working spec loads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import multiad
from multiad.testing import _spec

PLUGINS = Path(__file__).parent / "plugins"

BACKEND = """
import multiad
from multiad_numpy import NumpyBackend


class ExitsOnConstruction(NumpyBackend):
    name = ""

    def __init__(self) -> None:
        raise SystemExit(4)


class InterruptsOnLoad(NumpyBackend):
    name = ""

    def load(self) -> None:
        raise KeyboardInterrupt("load interrupted on purpose")


class Works(NumpyBackend):
    name = ""


NOT_A_BACKEND = {"name": "dict"}
"""

# spec -> fragments of the error after the prefix naming the spec
BROKEN = {
    "multiad_broken_sysexit:Backend": ("importing module 'multiad_broken_sysexit' raised SystemExit: 3",),
    "multiad_broken_interrupt:Backend": (
        "importing module 'multiad_broken_interrupt' raised KeyboardInterrupt: raised by "
        "multiad_broken_interrupt on purpose",
    ),
    "spec_backends_no_such_module:B": ("importing module 'spec_backends_no_such_module' raised ModuleNotFoundError",),
    "spec_backends:Missing": ("looking up 'Missing' in module 'spec_backends' raised AttributeError",),
    "spec_backends:ExitsOnConstruction": ("constructing ExitsOnConstruction raised SystemExit: 4",),
    "spec_backends:InterruptsOnLoad": ("loading its framework raised KeyboardInterrupt: load interrupted on purpose",),
    "spec_backends:NOT_A_BACKEND": ("spec_backends:NOT_A_BACKEND is a dict, not a multiad.Backend subclass",),
}


@pytest.fixture
def spec_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "spec_backends.py").write_text(textwrap.dedent(BACKEND))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("broken-sysexit", "broken-interrupt"):
        monkeypatch.syspath_prepend(str(PLUGINS / name))


@pytest.mark.usefixtures("spec_modules")
@pytest.mark.parametrize("spec", sorted(BROKEN))
def test_broken_spec_is_a_backend_error_naming_it(spec: str) -> None:
    with pytest.raises(multiad.BackendError) as info:
        _spec.load(spec)
    msg = str(info.value)
    assert msg.startswith(f"conformance suite (--multiad-backend={spec}): "), msg
    for part in BROKEN[spec]:
        assert part in msg, msg


@pytest.mark.usefixtures("spec_modules")
def test_working_spec_loads() -> None:
    b = _spec.load("spec_backends:Works")
    assert type(b).__name__ == "Works" and b.has_vjp
