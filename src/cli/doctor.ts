import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the host tools osvb needs, and name the package that fixes each')
    .option('--json', 'print the checks as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { runChecks, doctorFailed } = await import('../kernel/doctor.js');
      const checks = await runChecks();
      const failed = doctorFailed(checks);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ ok: !failed, checks }, null, 2)}\n`);
      } else {
        const w = Math.max(...checks.map((c) => c.name.length));
        for (const c of checks) {
          const mark = c.ok ? 'ok  ' : c.required ? 'FAIL' : 'warn';
          const fix = c.ok || !c.fix ? '' : `; ${c.fix}`;
          process.stdout.write(`${mark} ${c.name.padEnd(w)}  ${c.detail}${fix}\n`);
        }
      }
      process.exitCode = failed ? 1 : 0;
    });
}
