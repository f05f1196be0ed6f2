// The make jobserver: `-j N` bounds packages and their nested make jobs together.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { Rig, scriptPkg, type Tree } from './rig.ts';

/**
 * A package whose Makefile has six independent jobs; each records how many jobs (of all packages)
 * run when it starts, then waits (up to 30 s) until `meet` jobs run at once, so jobs that may
 * overlap do overlap whatever the machine's load, instead of hoping a sleep is long enough. Once
 * one job has met the others and left, the rest need not wait: nobody may be left to meet.
 */
function makePkg(name: string, meet: number): Tree {
  const job = (t: string) =>
    `${t}:\n\t@mkdir -p $(PROBE)/running && touch $(PROBE)/running/${name}-${t} && ls $(PROBE)/running | wc -l >> $(PROBE)/counts && ` +
    `for i in $$(seq 300); do [ $$(ls $(PROBE)/running | wc -l) -ge ${meet} ] && break; [ -e $(PROBE)/met ] && break; sleep 0.1; done && ` +
    `ls $(PROBE)/running | wc -l >> $(PROBE)/counts && touch $(PROBE)/met && rm $(PROBE)/running/${name}-${t}\n`;
  const targets = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6'];
  return {
    [`pkgs/${name}/type`]: 'standard\n',
    [`pkgs/${name}/spkg-install.in`]: 'cd src\nsdh_make PROBE="$SAGE_ROOT/probe"\nmkdir -p "$SAGE_DESTDIR_LOCAL/share" && touch "$SAGE_DESTDIR_LOCAL/share/' + name + '"\n',
    [`pkgs/${name}/src/Makefile`]: `all: ${targets.join(' ')}\n.PHONY: all ${targets.join(' ')}\n${targets.map(job).join('')}`,
  };
}

const peak = (rig: Rig) => Math.max(...readFileSync(rig.path('probe/counts'), 'utf8').trim().split('\n').map(Number));

describe('make jobserver', () => {
  it('-j 2 stays -j 2 after the package in the token-free slot ends (the slot passes on)', async () => {
    const rig = new Rig('jobs');
    // s starts first (longest chain) in the slot that needs no token and ends at once; l holds
    // the token and can only end once t has run beside it, in the slot s left.
    rig.write({
      ...scriptPkg('s'),
      ...scriptPkg('s2', { deps: 's' }),
      ...scriptPkg('s3', { deps: 's2' }),
      ...scriptPkg('l', { body: 'for i in $(seq 600); do [ -e "$SAGE_ROOT/t-ran" ] && break; sleep 0.1; done\n[ -e "$SAGE_ROOT/t-ran" ] || sdh_die "t never ran beside l: the job slot was lost"' }),
      ...scriptPkg('l2', { deps: 'l' }),
      ...scriptPkg('t', { body: 'touch "$SAGE_ROOT/t-ran"' }),
    });
    const r = await rig.run('-j', '2', 'all');
    assert.equal(r.exitCode, 0, r.all);
    rig.cleanup();
  });

  it('-j 3: two packages with parallel makes never run more than 3 jobs together', async () => {
    const rig = new Rig('js');
    // Jobs wait to meet 3 at once: the most -j 3 allows, so a limit that holds is reached.
    rig.write({ ...makePkg('p1', 3), ...makePkg('p2', 3) });
    const r = await rig.run('-j', '3', 'all');
    assert.equal(r.exitCode, 0, r.all);
    const n = peak(rig);
    assert.ok(n <= 3, `peak ${n} jobs with -j 3`);
    assert.ok(n >= 2, `nested makes ran in parallel (peak ${n})`);
    rig.cleanup();
  });

  it('without the jobserver (jobserver: false), each make takes its own -j: the limit does not hold', async () => {
    const rig = new Rig('js');
    // Jobs wait to meet 4 at once: more than -j 3, which each make's own -j3 allows.
    rig.write({ ...makePkg('p1', 4), ...makePkg('p2', 4), 'build.config.yaml': 'jobserver: false\n' });
    const r = await rig.run('-j', '3', 'all');
    assert.equal(r.exitCode, 0, r.all);
    assert.ok(peak(rig) > 3, `peak ${peak(rig)}: this is what the jobserver prevents`);
    rig.cleanup();
  });
});
