import os

from setuptools import Extension, setup

# libdemo lives in the prefix (SAGE_LOCAL); CPATH/LIBRARY_PATH point there during the build,
# and the rpath lets the extension find it at run time without LD_LIBRARY_PATH.
local = os.environ.get("SAGE_LOCAL")
ext = Extension(
    "pydemo._pydemo",
    sources=["pydemo/_pydemo.c"],
    libraries=["demo"],
    include_dirs=[os.path.join(local, "include")] if local else [],
    library_dirs=[os.path.join(local, "lib")] if local else [],
    runtime_library_dirs=[os.path.join(local, "lib")] if local else [],
)

setup(
    name="pydemo",
    version="0.2.0",
    description="Python bindings for libsagedemo (sagebuild demo)",
    packages=["pydemo"],
    ext_modules=[ext],
    python_requires=">=3.8",
)
