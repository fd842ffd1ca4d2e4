"""The machine fingerprint written next to every result set."""

import hashlib
import json
import os
import platform
import subprocess


def _run(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        return out.stdout.strip() if out.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def build_flags(path="build/flags"):
    """The compiler and flags the library was built with (the Makefile keeps
    them in build/flags), or VOLT_CFLAGS, or ''."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return os.environ.get("VOLT_CFLAGS", "")


def collect(suite_name, cflags="", topology=None):
    """What a reader needs to judge where the numbers came from."""
    real = _run(["lstopo-no-graphics", "--of", "synthetic", "--no-io"]) or _run(
        ["hwloc-calc", "--version"])
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "hwloc_topology": real or "unknown (lstopo not installed)",
        "synthetic_topologies": sorted(set(topology or [])),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "compiler": _run(["gcc", "--version"]).splitlines()[0] if _run(["gcc", "--version"]) else "",
        "cflags": cflags,
        "git_revision": _run(["git", "rev-parse", "HEAD"]) + (
            "+dirty" if _run(["git", "status", "--porcelain", "--untracked-files=no"]) else ""),
        "suite": suite_name,
        "python": platform.python_version(),
    }


def fingerprint_id(fp):
    """Hash of what makes results comparable (not the date or the suite)."""
    keep = {k: fp.get(k) for k in ("cpu_model", "cores", "hwloc_topology", "kernel",
                                  "machine", "compiler", "cflags", "git_revision")}
    text = json.dumps(keep, sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
