import type { Command } from 'commander';
import { RunError } from '../errors.js';

function mib(n: number): string {
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

export function registerCache(program: Command): void {
  const cache = program
    .command('cache')
    .description('the shared object cache ($OSVB_CACHE_DIR, else ~/.cache/osvb)');
  cache
    .command('info')
    .description('where the cache is, its size by kind and its cap')
    .option('--json', 'print it as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { cacheRoot } = await import('../kernel/cache.js');
      const { cacheEntries, cacheMax } = await import('../kernel/lru.js');
      const dir = cacheRoot();
      const entries = await cacheEntries(dir);
      const by: Record<string, { count: number; bytes: number }> = {};
      for (const e of entries) {
        by[e.kind] ??= { count: 0, bytes: 0 };
        by[e.kind]!.count++;
        by[e.kind]!.bytes += e.size;
      }
      const total = entries.reduce((s, e) => s + e.size, 0);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ dir, max: cacheMax(), total, kinds: by }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${dir}: ${mib(total)} of ${mib(cacheMax())}\n`);
      for (const [k, v] of Object.entries(by)) process.stdout.write(`  ${k}: ${v.count} (${mib(v.bytes)})\n`);
    });
  cache
    .command('prune')
    .description('evict least recently used entries down to the cap (or --max-size); --all empties it')
    .option('--max-size <size>', 'target size, e.g. 500M (default: $OSVB_CACHE_MAX or 2G)')
    .option('--all', 'remove every entry, also recently used ones')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { maxSize?: string; all?: boolean; json?: boolean }) => {
      const { cacheRoot } = await import('../kernel/cache.js');
      const { cacheMax, parseSize, pruneCache } = await import('../kernel/lru.js');
      const max = flags.all ? 0 : (parseSize(flags.maxSize) ?? cacheMax());
      if (Number.isNaN(max))
        throw new RunError(`--max-size ${flags.maxSize} is not a size like 500M`, { exitCode: 2 });
      const r = await pruneCache(cacheRoot(), { maxBytes: max, graceMs: flags.all ? 0 : undefined });
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(r, null, 2)}\n`
          : `removed ${r.removed} entries, freed ${mib(r.freed)}; ${mib(r.after)} left\n`,
      );
    });
}
