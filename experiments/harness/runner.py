"""Running a suite: cells in a seeded random order, each in its own process,
with a progress line, resumption, and a job list for running elsewhere."""

import os
import shlex
import shutil
import subprocess
import sys
import time

from . import fingerprint, results, suite as suites


def _log(run_dir, key, argv, env, proc_out, rc, secs):
    path = os.path.join(run_dir, "logs", key + ".log")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"$ {' '.join(f'{k}={v}' for k, v in sorted(env.items()))} "
                f"{shlex.join(argv)}\n# exit {rc} after {secs:.2f} s\n{proc_out}")


def run_cell(cell, suite, run_dir, fp_id):
    """Runs one cell; writes its rows. Returns (ok, seconds, message)."""
    key = suites.cell_key(suites.params_of(cell))
    argv = suites.command(cell, suite)
    env = suites.environment(cell)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VOLT_")}
    full_env.update(env)
    start = time.monotonic()
    try:
        proc = subprocess.run(argv, env=full_env, capture_output=True, text=True,
                              timeout=suite.get("timeout", 300))
        out, rc = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = f"{e.stdout or ''}{e.stderr or ''}\n# timed out", -1
    except OSError as e:
        out, rc = f"# cannot run: {e}", -2
    secs = time.monotonic() - start
    _log(run_dir, key, argv, env, out if isinstance(out, str) else out.decode(), rc, secs)
    measured = results.parse_output(out if isinstance(out, str) else out.decode())
    failed = os.path.join(run_dir, "failed", key + ".txt")
    if rc != 0 or not measured:
        why = f"exit {rc}" if rc != 0 else "no result lines"
        os.makedirs(os.path.dirname(failed), exist_ok=True)
        with open(failed, "w", encoding="utf-8") as f:
            f.write(f"{why}\n{shlex.join(argv)}\nlog: logs/{key}.log\n")
        return False, secs, why
    columns, params = suites.columns_of(cell)
    results.write_cell(run_dir, key, columns, params, measured, fp_id)
    if os.path.exists(failed):
        os.remove(failed)
    return True, secs, f"{len(measured)} values"


def prepare(suite, run_dir, fresh):
    """Creates the run directory (emptied if fresh) and its fingerprint."""
    if fresh and os.path.isdir(run_dir):
        shutil.rmtree(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    topologies = [str(c["topology"]) for c in suites.expand(suite) if "topology" in c]
    fp = fingerprint.collect(suite.get("name", "?"), fingerprint.build_flags(), topologies)
    fp_id = fingerprint.fingerprint_id(fp)
    results.write_json(os.path.join(run_dir, "fingerprint.json"), fp)
    os.makedirs(os.path.join(run_dir, "fingerprints"), exist_ok=True)
    results.write_json(os.path.join(run_dir, "fingerprints", fp_id + ".json"), fp)
    return fp_id


def pending(suite, run_dir, only=None):
    """The cells not yet done, in the suite's seeded random order."""
    done = results.done_keys(run_dir)
    cells = [c for c in suites.expand(suite)
             if suites.cell_key(suites.params_of(c)) not in done
             and (not only or c["experiment"] in only)]
    return suites.shuffled(cells, suite.get("seed", 1))


def _progress(i, total, cell, ok, secs, msg, elapsed):
    out = sys.stderr
    mean = elapsed / i
    left = mean * (total - i)
    p = suites.params_of(cell)
    desc = " ".join(f"{k}={v}" for k, v in p.items() if k != "experiment")
    out.write(f"[{i}/{total}] {p['experiment']} {desc}: {'ok' if ok else 'FAILED'} "
              f"({msg}, {secs:.1f} s) | {elapsed:.0f} s elapsed, about {left:.0f} s left\n")
    out.flush()


def run_suite(suite, run_dir, fresh=False, only=None):
    """Runs every pending cell; returns (cells run, cells failed)."""
    fp_id = prepare(suite, run_dir, fresh)
    todo = pending(suite, run_dir, only)
    start, failed = time.monotonic(), 0
    for i, cell in enumerate(todo, 1):
        ok, secs, msg = run_cell(cell, suite, run_dir, fp_id)
        failed += not ok
        _progress(i, len(todo), cell, ok, secs, msg, time.monotonic() - start)
    return len(todo), failed


def run_one(suite, run_dir, key):
    """Runs the cell named key (a job from emit_jobs). True if it succeeded."""
    for cell in suites.expand(suite):
        if suites.cell_key(suites.params_of(cell)) == key:
            fp_id = prepare(suite, run_dir, fresh=False)
            ok, _, msg = run_cell(cell, suite, run_dir, fp_id)
            print(f"{key}: {'ok' if ok else 'FAILED'} ({msg})")
            return ok
    raise suites.SuiteError(f"no cell {key} in the suite")


def emit_jobs(suite, suite_path, run_dir, only=None):
    """One shell command per pending cell, for GNU parallel or a SLURM array:
    each job writes into its own directory; `merge` combines them after."""
    lines = []
    for cell in pending(suite, run_dir, only):
        key = suites.cell_key(suites.params_of(cell))
        lines.append(f"python3 -m experiments.harness cell --suite {shlex.quote(suite_path)} "
                     f"--out {shlex.quote(os.path.join(run_dir, 'jobs', key))} --key {key}")
    return lines
