// Writes each package's output to <logs>/pkgs/<pkg>-<version>.log (one file per attempt).
import { reasonsText } from './reasons.js';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { EventBus } from '../events.js';

export class LogFiles {
  readonly #open = new Map<string, WriteStream>();
  readonly #closing: Promise<unknown>[] = [];

  constructor(bus: EventBus) {
    bus.on((e) => {
      switch (e.type) {
        case 'pkg-start': {
          mkdirSync(path.dirname(e.logFile), { recursive: true });
          const s = createWriteStream(e.logFile, { flags: 'w' });
          s.on('error', () => undefined); // a full disk must not crash the build; the console still has the output
          s.write(`sagebuild: building ${e.id} (${new Date().toString()})\nsagebuild: because: ${reasonsText(e.reasons) || 'requested'}\n`);
          this.#open.set(e.id, s);
          break;
        }
        case 'step':
          this.#open.get(e.id)?.write(`==> ${e.step}${e.detail ? ` ${e.detail}` : ''}\n`);
          break;
        case 'output':
          this.#open.get(e.id)?.write(e.line + '\n');
          break;
        case 'pkg-done':
        case 'pkg-failed': {
          const s = this.#open.get(e.id);
          if (!s) break;
          s.end(e.type === 'pkg-done' ? `sagebuild: ${e.id} ${e.removed ? 'removed (now a dummy package)' : 'installed'}\n` : `sagebuild: ${e.id} FAILED: ${e.error}\n`);
          this.#closing.push(once(s, 'close').catch(() => undefined));
          this.#open.delete(e.id);
          break;
        }
        default:
          break;
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.#open.values()) {
      s.end();
      this.#closing.push(once(s, 'close').catch(() => undefined));
    }
    await Promise.all(this.#closing);
  }
}
