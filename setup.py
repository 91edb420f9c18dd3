"""Build script for the optional Cython extension (the fast im2col convolution).

All metadata lives in pyproject.toml. If the extension cannot be compiled (no C compiler, missing
headers), the package still installs and `cs231n.fast_layers` falls back to pure NumPy.
"""

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

PYX = os.path.join("cs231n", "im2col_cython.pyx")


class OptionalBuildExt(build_ext):
    """Compile extensions, but never fail the install: the NumPy fallback takes over."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - any build failure means "use the fallback"
            self._warn(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001
            self._warn(exc)

    @staticmethod
    def _warn(exc):
        sys.stderr.write(
            f"cs231n: the Cython extension was not built ({exc}); the NumPy fallback will be used.\n"
        )


def extensions():
    if not os.path.exists(PYX):
        return []
    try:
        import numpy
        from Cython.Build import cythonize
        from setuptools import Extension
    except ImportError as exc:
        OptionalBuildExt._warn(exc)
        return []
    ext = Extension(
        "cs231n.im2col_cython",
        [PYX],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3"],
    )
    return cythonize([ext], language_level=3, quiet=True)


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
