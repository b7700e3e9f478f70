"""Installs the `hugectr` package with a copy of SwiftCTR's library: `libSwiftCTRPy.so` from the
checkout's `.build/release`, else `.build/debug` (build it first with
`swift build -c release --product SwiftCTRPy`)."""

import shutil
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

LIBRARY = "libSwiftCTRPy.so"


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        repo = Path(__file__).resolve().parent.parent
        built = [repo / ".build" / c / LIBRARY for c in ("release", "debug")]
        found = next((p for p in built if p.is_file()), None)
        target = Path(self.build_lib) / "hugectr" / "_lib"
        if found is None:
            (target / LIBRARY).unlink(missing_ok=True)  # no stale copy from an earlier build
            sys.stderr.write(f"warning: {LIBRARY} not found in {repo / '.build'}/release or /debug; "
                             "`import hugectr` will fail until you run "
                             "`swift build -c release --product SwiftCTRPy` and reinstall.\n")
            return
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found, target / LIBRARY)
        print(f"copied {found} into the package")


class WithLibrary(Distribution):
    """The wheel holds a native library: tag it for this platform, not as pure Python."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=WithLibrary)
