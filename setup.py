"""Build of the optional compiled HJ 212 codec (issue 18); everything else is in pyproject.toml.

``src/dualcontrol/core/_hj212_fast.pyx`` is compiled with Cython when it can be.  When it cannot
(no C compiler, no Cython, no Python headers) the install goes on without it and
``dualcontrol.core.hj212`` uses its pure-Python codec, which is the reference anyway.
"""

from __future__ import annotations

import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

FAST_CODEC = "dualcontrol.core._hj212_fast"


_REPORTED: list[str] = []


def _not_built(reason: object) -> None:
    """One line, once (a failed compile also fails the later copy of the module in place)."""
    if _REPORTED:
        return
    text = " ".join(str(reason).split()) or type(reason).__name__
    _REPORTED.append(text)
    print(
        f"HJ 212 compiled codec not built ({text}); the pure-Python codec is used",
        file=sys.stderr,
        flush=True,
    )


class OptionalBuildExt(build_ext):
    """build_ext that cythonizes lazily and never fails the install."""

    def run(self) -> None:
        try:
            from Cython.Build import cythonize

            for ext in self.extensions:  # keep setuptools' Extension objects, only swap sources
                [translated] = cythonize(
                    [ext], quiet=True, compiler_directives={"language_level": "3"}
                )
                ext.sources = translated.sources
        except Exception as exc:  # no Cython, or the .pyx does not translate
            _not_built(f"Cython: {exc}")
            self.extensions[:] = []
            return
        try:
            super().run()
        except Exception as exc:  # no compiler (CCompilerError, PlatformError …)
            _not_built(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # this extension only: compile or link error
            compiler = getattr(self.compiler, "compiler_so", None) or ["?"]
            _not_built(f"C compiler {compiler[0]!r} failed: {type(exc).__name__}")

    def get_outputs(self) -> list[str]:
        import os

        # only what was built (editable installs map these files)
        return [path for path in super().get_outputs() if os.path.exists(path)]


setup(
    ext_modules=[Extension(FAST_CODEC, ["src/dualcontrol/core/_hj212_fast.pyx"])],
    cmdclass={"build_ext": OptionalBuildExt},
)
