"""Suites: which experiments to run, over which matrix of parameters.

A suite is a JSON file in experiments/suites/:

    {
      "name": "quick", "reps": 5, "warmup": 2, "seed": 1, "timeout": 300,
      "experiments": [
        {"id": "E1_spawn_many_local", "impl": "volt",
         "program": "build/experiments/rt_bench",
         "args": ["--bench", "spawn_many_local", "--result"],
         "matrix": {"policy": ["ring", "global"], "workers": [2]},
         "baseline": {"impl": "tokio"}},
        ...
      ]
    }

Several entries may share an id (one per implementation: Volt-C and its
peers). Each combination of the matrix values is a cell. A parameter reaches
the program two ways: as an environment variable (ENV_OF below, or VOLT_<NAME>
for any other), and as {name} in the args.
"""

import hashlib
import itertools
import json
import random

# Parameters with a column of their own in results.csv; the rest go to `params`.
COLUMNS = ("experiment", "impl", "policy", "workers", "pin", "topology")

# Parameter -> environment variable, where the name is not simply VOLT_<NAME>.
ENV_OF = {
    "policy": "VOLT_SCHED",
    "lifo_max": "VOLT_LIFO_MAX",
    "buffer": "VOLT_CHAN_BUFFER",
}

DEFAULTS = {"pin": "none", "topology": "real"}


class SuiteError(ValueError):
    """A suite file that cannot be run as written."""


def load(path):
    """Reads and checks a suite file; returns the suite as a dict."""
    with open(path, encoding="utf-8") as f:
        try:
            suite = json.load(f)
        except json.JSONDecodeError as e:
            raise SuiteError(f"{path}: not JSON: {e}") from e
    check(suite, path)
    return suite


def check(suite, where="suite"):
    """Raises SuiteError naming the first thing wrong with the suite."""
    if not isinstance(suite, dict) or not isinstance(suite.get("experiments"), list):
        raise SuiteError(f"{where}: needs an 'experiments' list")
    for key in ("reps", "warmup"):
        if not isinstance(suite.get(key, 1), int) or suite.get(key, 1) < 0:
            raise SuiteError(f"{where}: '{key}' must be a whole number")
    for i, e in enumerate(suite["experiments"]):
        at = f"{where}: experiments[{i}]"
        for key in ("id", "program"):
            if not isinstance(e.get(key), str) or not e[key]:
                raise SuiteError(f"{at}: needs a '{key}' string")
        matrix = e.get("matrix", {})
        if not isinstance(matrix, dict):
            raise SuiteError(f"{at}: 'matrix' must be an object")
        for name, values in matrix.items():
            if not isinstance(values, list) or not values:
                raise SuiteError(f"{at}: matrix '{name}' must be a non-empty list")
        if not isinstance(e.get("args", []), list):
            raise SuiteError(f"{at}: 'args' must be a list")


def cell_key(cell):
    """A stable name for a cell: its parameters, hashed (order-independent)."""
    text = json.dumps(cell, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def expand(suite):
    """Every cell of the suite, in the suite's order: a list of dicts.

    A cell holds 'experiment', 'impl' and one value per matrix parameter;
    the entry it came from is under '_entry' (not part of the key).
    """
    cells = []
    for entry in suite["experiments"]:
        matrix = entry.get("matrix", {})
        names = sorted(matrix)
        for values in itertools.product(*(matrix[n] for n in names)):
            cell = {"experiment": entry["id"], "impl": entry.get("impl", "volt")}
            cell.update(zip(names, values))
            cells.append(cell)
            cell["_entry"] = entry
    return cells


def shuffled(cells, seed):
    """The cells in a random order fixed by seed (run order hides drift)."""
    order = list(cells)
    random.Random(seed).shuffle(order)
    return order


def params_of(cell):
    """The cell's parameters without the private '_entry'."""
    return {k: v for k, v in cell.items() if not k.startswith("_")}


def columns_of(cell):
    """The cell's values for the results columns, and its other parameters.

    policy: a peer's 'policy' is its implementation's name.
    """
    p = params_of(cell)
    row = {c: str(p.pop(c, DEFAULTS.get(c, ""))) for c in COLUMNS}
    if row["impl"] != "volt" and not row["policy"]:
        row["policy"] = row["impl"]
    rest = ";".join(f"{k}={p[k]}" for k in sorted(p))
    return row, rest


def environment(cell):
    """The VOLT_* variables a cell sets."""
    env = {}
    for name, value in params_of(cell).items():
        if name in ("experiment", "impl"):
            continue
        var = ENV_OF.get(name, "VOLT_" + name.upper())
        env[var] = str(value)
    return env


def command(cell, suite):
    """The argv that runs a cell: program, args with {name} filled, reps, warmup."""
    entry = cell["_entry"]
    p = params_of(cell)
    try:
        args = [a.format(**p) for a in entry.get("args", [])]
    except KeyError as e:
        raise SuiteError(f"{entry['id']}: args name {e} which is not a parameter") from e
    reps = entry.get("reps", suite.get("reps", 5))
    warmup = entry.get("warmup", suite.get("warmup", 1))
    return [entry["program"], *args, "--reps", str(reps), "--warmup", str(warmup)]
