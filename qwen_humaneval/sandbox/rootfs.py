"""The minimal root every candidate pivots into: a read-only tmpfs holding /usr and the Python
installation (every site-packages covered by an empty directory, the packages candidates may import
bound back), paths that must never show covered, a small /dev, and mount points for the candidate's
own /proc, /tmp, /dev/shm. Stdlib only: runs inside the sandbox worker (`python -I`).
"""

import glob
import os
import sys

from .kernel import MS_BIND, MS_NODEV, MS_NOSUID, MS_RDONLY, MS_REMOUNT, bind_read_only, mount

DEVICES = ("null", "zero", "full", "random", "urandom")
# Where an installation keeps third-party packages, below a tree bound into the root (/usr included:
# Debian's dist-packages, /usr/local's site-packages in the python images).
SITE_PACKAGES = (
    "lib*/python*/site-packages",
    "lib*/python*/dist-packages",
    "lib/python3/dist-packages",
    "local/lib*/python*/site-packages",
    "local/lib*/python*/dist-packages",
)


def _python_trees() -> list[str]:
    """The directories the interpreter and its imports live in, outside /usr."""
    trees = set()
    for path in (
        sys.base_prefix,
        sys.prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    ):
        real = os.path.realpath(path)
        if not (real == "/usr" or real.startswith("/usr/")):
            trees.add(real)
    return sorted(t for t in trees if not any(t.startswith(o + "/") for o in trees if o != t))


def _cover(target: str, keep: list[str] = ()) -> None:
    """An empty read-only directory over target, with the directories in keep (inside it) bound
    back."""
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    for source in keep:
        bind_read_only(source, os.path.join(target, os.path.basename(source)))
    mount(None, target, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _in_root(root: str, binds: list[tuple[str, str]], path: str) -> str | None:
    """Where a host path shows in the root, through binds ([host tree, where it is bound]); None if
    it does not."""
    real = os.path.realpath(path)
    for host, inside in binds:
        if real == host or real.startswith(host + "/"):
            return root + inside + real[len(host) :]
    return None


def _hide_site_packages(root: str, binds: list[tuple[str, str]], packages: list[str]) -> list[str]:
    """Cover every site-packages directory of the bound trees; bind back the package directories of
    packages (absolute paths) that live in one. Returns the directories covered (host paths)."""
    covered = []
    for host, _ in binds:
        for pattern in SITE_PACKAGES:
            for found in sorted(glob.glob(os.path.join(host, pattern))):
                real = os.path.realpath(found)
                target = _in_root(root, binds, real)
                if real in covered or target is None or not os.path.isdir(target):
                    continue
                _cover(target, [p for p in packages if os.path.dirname(p) == real])
                covered.append(real)
    return covered


def _hide(root: str, binds: list[tuple[str, str]], paths: list[str]) -> list[str]:
    """Cover each of paths that the root shows (a directory with an empty one, a file with an empty
    file)."""
    hidden = []
    for path in paths:
        target = _in_root(root, binds, path)
        if target is None or not os.path.lexists(target):
            continue
        if os.path.isdir(target):
            _cover(target)
        else:
            mount(os.path.join(root, EMPTY_FILE), target, None, MS_BIND)
            mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        hidden.append(os.path.realpath(path))
    return hidden


STAGING = "/.under-tmp"
EMPTY_FILE = ".empty"


def build_root(root: str, packages: list[str] = (), hide: list[str] = ()) -> dict:
    """The minimal root every candidate pivots into (see the module docstring). packages:
    directories of packages candidates may import (each inside a site-packages directory); hide:
    paths to cover if the root shows them (the datasets, caches and checkout when they live under a
    bound tree).

    A Python tree that lives under /tmp (a checkout in /tmp, say) would be hidden by each
    candidate's fresh /tmp: it is staged elsewhere in the root and bound back by enter_jail. Returns
    those [staged, original] pairs ('python_under_tmp') and the directories covered."""
    os.makedirs(root, exist_ok=True)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = "/" + top
        if os.path.islink(host):
            os.symlink(os.readlink(host), os.path.join(root, top))
        elif os.path.isdir(host):
            bind_read_only(host, os.path.join(root, top))
    bind_read_only("/usr", os.path.join(root, "usr"))
    under_tmp, binds = [], [("/usr", "/usr")]
    for tree in _python_trees():
        if tree.startswith("/tmp/"):
            staged = f"{STAGING}/{len(under_tmp)}"
            bind_read_only(tree, root + staged)
            under_tmp.append([staged, tree])
            binds.append((tree, staged))
        else:
            bind_read_only(tree, root + tree)
            binds.append((tree, tree))
    binds += [
        (os.path.realpath("/" + top), "/" + top)
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
        if os.path.isdir("/" + top) and not os.path.islink("/" + top)
    ]
    open(os.path.join(root, EMPTY_FILE), "w").close()
    covered = _hide_site_packages(root, binds, [os.path.realpath(p) for p in packages])
    hidden = _hide(root, binds, list(hide))
    dev = os.path.join(root, "dev")
    os.makedirs(os.path.join(dev, "shm"), mode=0o755)
    for name in DEVICES:
        target = os.path.join(dev, name)
        open(target, "a").close()
        mount("/dev/" + name, target, None, MS_BIND)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, os.path.join(dev, name))
    for empty in ("proc", "tmp"):
        os.makedirs(os.path.join(root, empty), mode=0o755)
    mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    return {"python_under_tmp": under_tmp, "site_packages_covered": covered, "hidden": hidden}
