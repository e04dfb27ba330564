// Progress for long work. On a terminal: one bar on stderr, redrawn at most
// ten times a second and cleared at the end. With --json: newline-delimited
// JSON events on stdout ({"event": ..., ...}, one per line, the last one the
// result) for CI systems. Otherwise: nothing extra.

export interface Progress {
  /** A JSON event (only in --json mode). */
  event(event: string, data?: Record<string, unknown>): void;
  /** Work done of total: a bar on a TTY, an event in --json mode. */
  step(label: string, done: number, total: number): void;
  /** Clears the bar. */
  end(): void;
}

export function progress(opts: {
  json?: boolean;
  out?: NodeJS.WriteStream;
  err?: NodeJS.WriteStream;
  /** Draw the bar even if stderr is not a terminal (tests). */
  forceBar?: boolean;
}): Progress {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const bar = !opts.json && (opts.forceBar || err.isTTY === true);
  let last = 0;
  let drawn = false;
  const event = (event: string, data: Record<string, unknown> = {}) => {
    if (opts.json) out.write(`${JSON.stringify({ event, ...data })}\n`);
  };
  return {
    event,
    step(label, done, total) {
      if (opts.json) {
        event('progress', { label, done, total });
        return;
      }
      if (!bar) return;
      const now = Date.now();
      if (done < total && now - last < 100) return;
      last = now;
      const width = 30;
      const filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : 0;
      const cols = err.columns ?? 80;
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}`.slice(
        0,
        cols - 1,
      );
      err.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    end() {
      if (drawn) err.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
