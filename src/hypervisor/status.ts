// Mapping how QEMU ended to the status `osvb run` exits with (BRIEF.md).

import { constants as osConstants } from 'node:os';
import { qemuComplaint } from './qemu-words.js';

export const STATUS_PANIC = 125;
export const STATUS_TIMEOUT = 124;
/** QEMU itself failed (bad option, abort, unusable accelerator). */
export const STATUS_QEMU = 126;
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
  | { kind: 'qemu-error'; exitCode?: number; signal?: string; said: string };

/** 128 + the signal's number, as a shell reports a process killed by it. */
export function signalStatus(signal: string): number {
  const n = (osConstants.signals as Record<string, number | undefined>)[signal];
  return 128 + (n ?? 0);
}

export interface QemuEnd {
  /** QEMU's exit code, undefined when a signal ended it. */
  exitCode: number | undefined;
  /** The signal that ended QEMU. */
  signal: string | undefined;
  /** A signal osvb run received and passed on to QEMU (the user interrupted the run). */
  forwarded?: string;
  timedOut: boolean;
  timeoutSeconds: number;
  /** The COM2 record file's contents. */
  record: string;
  /** What QEMU wrote on stderr (beyond known noise). */
  qemuStderr: string;
}

export function classify(end: QemuEnd): GuestOutcome {
  const rec = parseExitRecord(end.record);
  if (end.timedOut) return { kind: 'timeout', seconds: end.timeoutSeconds };
  if (rec.kind === 'panic') return { kind: 'panic' };
  if (rec.kind === 'exit') return { kind: 'exit', status: rec.status, source: 'record' };
  if (end.forwarded) return { kind: 'signal', signal: end.forwarded, status: signalStatus(end.forwarded) };
  const said = qemuComplaint(end.qemuStderr);
  // QEMU died by a signal nobody sent it (an assertion's abort, a crash).
  if (end.signal) return { kind: 'qemu-error', signal: end.signal, said };
  const code = end.exitCode ?? 1;
  // isa-debug-exit makes QEMU exit with (value << 1) | 1.
  if (code % 2 === 1 && !(code === 1 && said !== '')) {
    const value = (code - 1) / 2;
    if (value === PANIC_EXIT_VALUE) return { kind: 'panic' };
    return { kind: 'exit', status: value, source: 'debug-exit' };
  }
  if (code === 0) return { kind: 'no-status' };
  return { kind: 'qemu-error', exitCode: code, said };
}
