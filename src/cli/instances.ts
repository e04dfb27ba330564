import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Instance } from '../hypervisor/instances.js';

function duration(s: number): string {
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.floor(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function stateText(i: Instance): string {
  switch (i.status.state) {
    case 'running':
      return 'running';
    case 'exited':
      return `exited (${i.status.status})`;
    case 'panicked':
      return 'panicked (125)';
    case 'stopped':
      return 'stopped';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function registerInstances(program: Command): void {
  program
    .command('ps')
    .description('list instances started with osvb run -d')
    .option('--json', 'print them as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { listInstances } = await import('../hypervisor/instances.js');
      const list = await listInstances();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = [
        ['NAME', 'IMAGE', 'STATE', 'UPTIME', 'PORTS'],
        ...list.map((i) => [
          i.name,
          i.image,
          stateText(i),
          i.uptimeSeconds !== undefined ? duration(i.uptimeSeconds) : '-',
          i.ports.join(',') || '-',
        ]),
      ];
      const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      for (const r of rows)
        process.stdout.write(
          `${r
            .map((v, c) => v.padEnd(w[c]!))
            .join('  ')
            .trimEnd()}\n`,
        );
    });

  program
    .command('logs')
    .description("print an instance's console")
    .argument('<name>')
    .option('-f, --follow', 'keep printing until the instance stops')
    .action(async (name: string, flags: { follow?: boolean }) => {
      const { findInstance, readInstance, consolePath } = await import('../hypervisor/instances.js');
      const inst = await findInstance(name);
      const file = consolePath(inst);
      let pos = 0;
      const drain = async () => {
        const size = (await stat(file).catch(() => ({ size: 0 }))).size;
        if (size <= pos) return;
        await new Promise<void>((res, rej) => {
          const s = createReadStream(file, { start: pos, end: size - 1 });
          s.on('data', (d) => process.stdout.write(d));
          s.on('end', () => res());
          s.on('error', rej);
        });
        pos = size;
      };
      await drain();
      while (flags.follow) {
        const running = (await readInstance(inst.dir)).status.state === 'running';
        await drain();
        if (!running) break;
        await sleep(200);
      }
    });

  program
    .command('stop')
    .description('stop an instance: ACPI power button through QMP, forced after --timeout')
    .argument('<name>')
    .option('-t, --timeout <seconds>', 'how long to wait for a graceful stop', '10')
    .action(async (name: string, flags: { timeout: string }) => {
      const { findInstance, stopInstance } = await import('../hypervisor/instances.js');
      const t = Number(flags.timeout);
      if (!(t >= 0))
        throw new (await import('../errors.js')).RunError('--timeout must be seconds >= 0', { exitCode: 2 });
      const how = await stopInstance(await findInstance(name), t);
      process.stdout.write(how === 'not-running' ? `${name}: not running\n` : `${name}: stopped (${how})\n`);
    });

  program
    .command('rm')
    .description('remove a stopped instance and its logs')
    .argument('<names...>')
    .option('-f, --force', 'stop it first if it is running')
    .action(async (names: string[], flags: { force?: boolean }) => {
      const { findInstance, removeInstance } = await import('../hypervisor/instances.js');
      for (const n of names) {
        await removeInstance(await findInstance(n), Boolean(flags.force));
        process.stdout.write(`${n}\n`);
      }
    });
}
