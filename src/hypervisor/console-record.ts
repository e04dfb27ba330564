// The exit record on a console: where there is no COM2 (Xen's PV console,
// Firecracker's one UART) the kernel writes "osvb-exit: N" (or "osvb-panic")
// as a line of its own on the console, and the runner takes those lines out of
// the output and exits with the status.

/** The exit status a console record line gives (125: panic), or undefined for any other line. */
export function consoleRecord(line: string): number | undefined {
  const l = line.replace(/\r$/, '');
  if (l === 'osvb-panic') return 125;
  const m = /^osvb-exit: (\d{1,3})$/.exec(l);
  return m && Number(m[1]) <= 255 ? Number(m[1]) : undefined;
}

function mayBeRecord(partial: string): boolean {
  return (
    'osvb-exit: '.startsWith(partial) ||
    'osvb-panic'.startsWith(partial) ||
    /^osvb-exit: \d{0,3}$/.test(partial)
  );
}

/** Passes console output through, taking the record lines out; status() is the last record's. */
export function consoleFilter(write: (s: string) => void): {
  push: (chunk: string) => void;
  end: () => void;
  status: () => number | undefined;
} {
  let pending = '';
  let status: number | undefined;
  return {
    push(chunk) {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl + 1);
        pending = pending.slice(nl + 1);
        const s = consoleRecord(line.slice(0, -1));
        if (s === undefined) write(line);
        else status = s;
        nl = pending.indexOf('\n');
      }
      // A partial line that cannot become a record goes out now (prompts).
      if (pending !== '' && !mayBeRecord(pending)) {
        write(pending);
        pending = '';
      }
    },
    end() {
      if (pending !== '') write(pending);
      pending = '';
    },
    status: () => status,
  };
}

/**
 * Writes `config` to a temporary file, runs `tool ...args FILE` with its
 * stdout (the guest's console) through consoleFilter onto ours, and returns
 * the guest's status from its record: 1, with a line saying so, when the
 * console ended without one.
 */
export async function runWithConsoleRecord(
  tool: string,
  args: string[],
  config: { name: string; text: string },
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { basename, join } = await import('node:path');
  const { spawn } = await import('node:child_process');
  const tmp = await mkdtemp(join(tmpdir(), `osvb-${basename(tool)}-`));
  try {
    const file = join(tmp, config.name);
    await writeFile(file, config.text);
    const filter = consoleFilter((s) => process.stdout.write(s, 'latin1'));
    const code = await new Promise<number>((res, rej) => {
      const child = spawn(tool, [...args, file], { stdio: ['inherit', 'pipe', 'inherit'], env });
      child.stdout.setEncoding('latin1');
      child.stdout.on('data', (d: string) => filter.push(d));
      child.on('error', rej);
      child.on('close', (c) => res(c ?? 1));
    });
    filter.end();
    const status = filter.status();
    if (status !== undefined) return status;
    process.stderr.write(
      `osvb: the guest's console ended without an exit record (${basename(tool)} exited ${code})\n`,
    );
    return 1;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
