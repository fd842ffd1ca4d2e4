#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tests/reliability/summarize.py OUT [TOTAL_SECS]: the figures of one
`make test-reliability` run (tests/reliability/run.sh).

Reads OUT/steps.tsv (suite, status, seconds), the suites' logs in OUT/logs/
and the soak results in OUT/soak/summary.json; writes OUT/summary.json and
OUT/summary.md; prints the table and a closing "N passed, N failed" that
sums the suites' own closing lines (a failed suite without one counts as
one failure). Exit status 1 if any suite failed.

Each figure is read from a line its suite prints; a suite that did not run
leaves its figures out rather than zero, so a summary never claims what a
run did not show.
"""
import json
import os
import re
import sys

PASSFAIL = re.compile(r'^(\d+) passed, (\d+) failed', re.M)


def read(path):
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return None


def total(pattern, text, group=1):
    return sum(int(m.group(group)) for m in re.finditer(pattern, text, re.M))


def models(text):
    runs = re.findall(r'^ok\s+model\s+(\S+)\s+(\d+) seeds', text, re.M)
    caught = re.findall(r'^caught: mutant (\S+) by model (\S+) at seed (\d+)', text, re.M)
    survived = re.findall(r'^SURVIVED (\S+)', text, re.M)
    return {
        'models': len(runs),
        'seeds_per_model_min': min((int(s) for _, s in runs), default=0),
        'seeds_explored': sum(int(s) for _, s in runs),
        'mutants_caught': len(caught),
        'mutants_survived': len(survived),
    }


def chaos(text):
    seeds = sorted(set(re.findall(r'VOLT_CHAOS_SEED=(\d+)', text)))
    return {'chaos_seeds': len(seeds), 'tests_passed': total(PASSFAIL.pattern, text)}


def chaos_teeth(text):
    return {'lines': re.findall(r'^teeth: .*$', text, re.M)}


def sim(text):
    out = {}
    for m in re.finditer(r'^(\w+): (\d+) of (\d+) seeds passed: (\d+) connections, (\d+) bytes '
                         r'checked, (\d+) resets, (\d+) faults', text, re.M):
        out[m.group(1)] = {'seeds_passed': int(m.group(2)), 'seeds': int(m.group(3)),
                           'connections': int(m.group(4)), 'bytes_checked': int(m.group(5)),
                           'resets': int(m.group(6)), 'faults': int(m.group(7))}
    return out


def faults(text):
    return {
        'syscall_scenarios': len(re.findall(r'^fault: ', text, re.M)),
        'syscall_faults_injected': total(r'^fault: .*?(\d+) faults injected', text),
        'bytes_verified': total(r'^fault: .*?(\d+) bytes verified', text),
        'alloc_cases': len(re.findall(r'^alloc-fail: ', text, re.M)),
        'alloc_failures_injected': total(r'^alloc-fail: .*?(\d+) failures injected', text),
        'bad_input_tests_passed': len(re.findall(r'^ok\s+bad_input', text, re.M)),
    }


def fuzz(text):
    out = {}
    for m in re.finditer(r'^(fuzz_\w+): (\d+) runs in (\d+) s.*, (\w+)$', text, re.M):
        out[m.group(1)] = {'runs': int(m.group(2)), 'secs': int(m.group(3)),
                           'result': m.group(4)}
    return out


def fuzz_teeth(text):
    return {'lines': re.findall(r'^fuzz-mutant-.*(?:caught after|MISSED).*$', text, re.M)}


def soak(path):
    text = read(path)
    if text is None:
        return None
    d = json.loads(text)
    runs = {}
    for r in d.get('runs', []):
        res = r.get('result') or {}
        keep = ('conns', 'secs', 'msgs', 'bytes_checked', 'errors', 'conns_alive',
                'rss_first_kib', 'rss_end_kib', 'rss_drift_pct', 'server_cpu_pct',
                'spawned', 'joined_cancelled', 'live_tasks_end', 'tasks', 'completed',
                'dropped_unfinished', 'msgs_received', 'msgs_returned_to_sender',
                'msgs_drained_after', 'shutdown_ms', 'malloc_leaked_bytes', 'fds_before',
                'fds_after', 'threads_after', 'check_failures')
        runs[r['run']] = dict({'pass': r.get('pass')},
                              **{k: res[k] for k in keep if k in res})
    return {'mode': d.get('mode'), 'passed': d.get('passed'), 'failed': d.get('failed'),
            'runs': runs}


def fmt(n):
    return '{:,}'.format(n)


def figure_table(fig):
    """The figures as a Markdown table: what was explored, injected, held."""
    rows = []
    m = fig.get('models')
    if m:
        rows.append(('model checking', '%d models x %s seeds = %s runs; planted bugs caught %d of %d'
                     % (m['models'], fmt(m['seeds_per_model_min']), fmt(m['seeds_explored']),
                        m['mutants_caught'], m['mutants_caught'] + m['mutants_survived'])))
    c = fig.get('chaos')
    if c:
        rows.append(('chaos build', '%d seeds, %s test cases passed'
                     % (c['chaos_seeds'], fmt(c['tests_passed']))))
    for line in (fig.get('chaos-teeth') or {}).get('lines', []):
        rows.append(('chaos teeth', line.replace('teeth: ', '', 1)))
    for ex, v in sorted((fig.get('sim') or {}).items()):
        rows.append(('simulation, %s example' % ex,
                     '%d of %d seeds; %s connections, %s bytes checked, %s resets, %s faults'
                     % (v['seeds_passed'], v['seeds'], fmt(v['connections']),
                        fmt(v['bytes_checked']), fmt(v['resets']), fmt(v['faults']))))
    for key, label in (('faults', 'release'), ('faults-asan', 'ASan')):
        f = fig.get(key)
        if not f:
            continue
        rows.append(('syscall faults (%s)' % label,
                     '%d scenario runs, %s faults injected, %s bytes verified'
                     % (f['syscall_scenarios'], fmt(f['syscall_faults_injected']),
                        fmt(f['bytes_verified']))))
        rows.append(('allocation failure (%s)' % label, '%d cases, %s failures injected'
                     % (f['alloc_cases'], fmt(f['alloc_failures_injected']))))
        rows.append(('bad-input table (%s)' % label, '%d test runs passed'
                     % f['bad_input_tests_passed']))
    for t, v in sorted((fig.get('fuzz') or {}).items()):
        rows.append(('fuzz %s' % t, '%s executions, a %d s run: %s'
                     % (fmt(v['runs']), v['secs'], v['result'])))
    for line in (fig.get('fuzz-teeth') or {}).get('lines', []):
        rows.append(('fuzz teeth', line.split(': FUZZ_CHECK')[0]))
    so = fig.get('soak')
    for name, r in sorted(((so or {}).get('runs') or {}).items()):
        if 'rss_first_kib' in r:
            what = ('%s connections x %g s, %s bytes checked, %d errors, RSS %s -> %s KiB '
                    '(%+.1f%%), server CPU %.1f%%'
                    % (fmt(r['conns']), r['secs'], fmt(r['bytes_checked']), r['errors'],
                       fmt(r['rss_first_kib']), fmt(r['rss_end_kib']), r['rss_drift_pct'],
                       r['server_cpu_pct']))
        elif 'spawned' in r:
            what = ('%s tasks, %s joined as cancelled, live tasks at the end %d, %d bytes '
                    'leaked, fds %d -> %d' % (fmt(r['spawned']), fmt(r['joined_cancelled']),
                                             r['live_tasks_end'], r['malloc_leaked_bytes'],
                                             r['fds_before'], r['fds_after']))
        else:
            what = ('%s tasks: %s completed + %s dropped; %s messages = %s received + %s '
                    'returned + %s drained; %d bytes leaked, fds %d -> %d, freed in %.0f ms'
                    % (fmt(r['tasks']), fmt(r['completed']), fmt(r['dropped_unfinished']),
                       fmt(r['msgs']), fmt(r['msgs_received']),
                       fmt(r['msgs_returned_to_sender']), fmt(r['msgs_drained_after']),
                       r['malloc_leaked_bytes'], r['fds_before'], r['fds_after'],
                       r['shutdown_ms']))
        rows.append(('soak (%s) %s%s' % (so.get('mode'), name, '' if r.get('pass') else ' FAILED'),
                     what))
    out = ['| suite | figure |', '|---|---|']
    out.extend('| %s | %s |' % r for r in rows)
    return out


PARSERS = {'models': models, 'chaos': chaos, 'chaos-teeth': chaos_teeth, 'sim': sim,
           'faults': faults, 'faults-asan': faults, 'fuzz': fuzz, 'fuzz-teeth': fuzz_teeth}


def main():
    out = sys.argv[1]
    total_secs = int(sys.argv[2]) if len(sys.argv) > 2 else None
    steps = []
    for line in (read(os.path.join(out, 'steps.tsv')) or '').splitlines():
        name, rc, secs = line.split('\t')
        steps.append({'suite': name, 'status': int(rc), 'secs': int(secs)})
    passed = failed = 0
    figures = {}
    for s in steps:
        text = read(os.path.join(out, 'logs', s['suite'] + '.log')) or ''
        counts = PASSFAIL.findall(text)
        if counts:
            p, f = int(counts[-1][0]), int(counts[-1][1])
        else:
            p, f = (0, 1) if s['status'] else (0, 0)
        if s['status'] and f == 0:
            f = 1
        s['passed'], s['failed'] = p, f
        passed += p
        failed += f
        if s['suite'] in PARSERS:
            figures[s['suite']] = PARSERS[s['suite']](text)
    soak_figures = soak(os.path.join(out, 'soak', 'summary.json'))
    if soak_figures:
        figures['soak'] = soak_figures
    summary = {'total_secs': total_secs, 'passed': passed, 'failed': failed,
               'suites': steps, 'figures': figures}
    with open(os.path.join(out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
        f.write('\n')
    lines = ['| suite | status | seconds | passed | failed |', '|---|---|---|---|---|']
    for s in steps:
        lines.append('| %s | %s | %d | %d | %d |' % (s['suite'], 'ok' if s['status'] == 0 else
                                                   'FAILED (%d)' % s['status'], s['secs'],
                                                   s['passed'], s['failed']))
    lines.append('')
    lines.extend(figure_table(figures))
    with open(os.path.join(out, 'summary.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines[:len(steps) + 2]))
    if total_secs is not None:
        print('test-reliability: %d s in all; figures in %s/summary.md' % (total_secs, out))
    print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
