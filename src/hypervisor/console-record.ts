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
