// `download [pkg...|all]`: upstream tarballs and pip packages' wheels, without building.
import { DownloadError, downloadUrls, ensureTarball } from '../spkg/download.js';
import { tarballPath } from '../recipes.js';
import { existsSync } from 'node:fs';
import { buildEnv } from '../spkg/env.js';
import { pkgId, pkgPaths } from '../spkg/package.js';
import { kindBuild } from '../spkg/kinds.js';
import { kindOf } from '../kinds.js';
import { closure, type BuildRequest } from '../plan.js';
import type { Project } from '../project.js';
import { out, type CommandOptions } from './options.js';

/** `download [pkg...|all]`: fetch and verify upstream tarballs (and pip packages' wheels) without building. */
export async function download(project: Project, requests: BuildRequest[], o: CommandOptions): Promise<number> {
  // Packages the system provides are never built, so never downloaded.
  const names = [...closure(project, requests)].filter((n) => !project.system.has(n)).sort();
  if (o.dryRun) {
    for (const name of names) {
      const r = project.recipes.get(name)!;
      const kindDownload = kindBuild(r).download;
      if (r.checksums) {
        const sources = [...downloadUrls(project.config, r), ...(kindOf(r).tarball === 'wheel' ? ["pip's configured package index"] : [])];
        out(o, [`${pkgId(r)}: ${existsSync(tarballPath(project.config, r)) ? 'in the upstream cache (verified when used)' : `would download ${tarballPath(project.config, r)} from ${sources.join(' or ') || '(no source: add mirrors or upstream_url)'}`}`]);
      } else if (kindDownload) out(o, [`${pkgId(r)}: ${kindDownload.plan(r)}`]);
    }
    return 0;
  }
  let failed = 0;
  let fetched = 0;
  await Promise.all(
    names.map(async (name) => {
      const r = project.recipes.get(name)!;
      const id = pkgId(r);
      try {
        if (r.checksums) {
          const res = await ensureTarball({ config: project.config, bus: o.bus, id, signal: o.signal, offline: o.offline }, r);
          if (res.downloaded) fetched++;
          o.bus.emit({ type: 'info', message: `${id}: ${res.downloaded ? 'downloaded' : 'in the upstream cache'}, checksum verified: ${res.file}` });
        } else {
          const env = () => buildEnv(project.config, r, pkgPaths(project, r), false, false);
          if (await kindBuild(r).download?.fetch(r, { config: project.config, bus: o.bus, id, signal: o.signal, offline: o.offline, env })) fetched++;
        }
      } catch (e) {
        if (!(e instanceof DownloadError)) throw e;
        failed++;
        o.bus.emit({ type: 'warning', message: `${id}: ${e.message}` });
      }
    }),
  );
  o.bus.emit({ type: 'info', message: `download: ${fetched} fetched, ${failed} failed, ${names.length} package(s) considered` });
  return failed ? 1 : 0;
}
