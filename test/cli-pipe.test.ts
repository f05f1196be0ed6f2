// The real binary piped into a reader that stops early (`| head`): quiet, with its own status.
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { describe, it } from 'node:test';
import { CLI } from './rig.ts';

describe('output piped into a reader that stops early', () => {
  for (const args of [['--help'], ['--version']]) {
    it(`sagebuild ${args.join(' ')} | true: exit 0, nothing on stderr`, async () => {
      // `true` has exited before node writes: every write meets a closed pipe (EPIPE).
      const r = await execa('bash', ['-c', `set -o pipefail; node "${CLI}" ${args.join(' ')} | true`], { reject: false, all: true });
      assert.equal(r.exitCode, 0, r.all);
      assert.equal(r.stderr, '', 'no EPIPE stack trace');
    });
  }
});
