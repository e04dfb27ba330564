// Mapping how QEMU ended to the status `osvb run` exits with (BRIEF.md).

export const STATUS_PANIC = 125;
export const STATUS_TIMEOUT = 124;
/** The value a panicking kernel writes to isa-debug-exit. */
export const PANIC_EXIT_VALUE = 0x7f;

export type ExitRecord = { kind: 'exit'; status: number } | { kind: 'panic' } | { kind: 'none' };

/** The last record in the COM2 text; later records win (a panic after an exit line, say). */
export function parseExitRecord(text: string): ExitRecord {
  let rec: ExitRecord = { kind: 'none' };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    const m = /^osvb-exit: (\d{1,3})$/.exec(line);
    if (m && Number(m[1]) <= 255) rec = { kind: 'exit', status: Number(m[1]) };
    else if (line === 'osvb-panic') rec = { kind: 'panic' };
  }
  return rec;
}

export type GuestOutcome =
  | { kind: 'exit'; status: number; source: 'record' | 'debug-exit' }
  | { kind: 'panic' }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'signal'; signal: string; status: number }
  | { kind: 'no-status' }
  | { kind: 'qemu-error'; exitCode: number };

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

export interface QemuEnd {
  /** QEMU's exit code, undefined when a signal ended it. */
  exitCode: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  timeoutSeconds: number;
  /** The COM2 record file's contents. */
  record: string;
  /** QEMU wrote something on stderr (beyond known noise). */
  qemuComplained: boolean;
}

export function classify(end: QemuEnd): GuestOutcome {
  const rec = parseExitRecord(end.record);
  if (end.timedOut) return { kind: 'timeout', seconds: end.timeoutSeconds };
  if (rec.kind === 'panic') return { kind: 'panic' };
  if (rec.kind === 'exit') return { kind: 'exit', status: rec.status, source: 'record' };
  if (end.signal) {
    return { kind: 'signal', signal: end.signal, status: 128 + (SIGNAL_NUMBERS[end.signal] ?? 0) };
  }
  const code = end.exitCode ?? 1;
  // isa-debug-exit makes QEMU exit with (value << 1) | 1.
  if (code % 2 === 1 && !(code === 1 && end.qemuComplained)) {
    const value = (code - 1) / 2;
    if (value === PANIC_EXIT_VALUE) return { kind: 'panic' };
    return { kind: 'exit', status: value, source: 'debug-exit' };
  }
  if (code === 0) return { kind: 'no-status' };
  return { kind: 'qemu-error', exitCode: code };
}
