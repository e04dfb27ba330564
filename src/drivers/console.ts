// The console: three 16550 UARTs, one per stream, so the host never parses
// what the program writes (README, Decisions). COM1 carries the program's stdin
// and stdout, COM3 its stderr, COM4 the kernel's messages; COM2 is the exit
// record (exit.ts).
//
// `relay` (osvb run): each UART's chardev is a socket QEMU inherits (fds 3, 4,
// 5); this file's ConsoleRelay moves Buffers between them and osvb's own
// stdin/stdout/stderr. stdin is framed (0xff 0xff = a data byte 0xff, 0xff 0x00
// = end of file) because a UART has no end of file.
// `stdio` (--dry-run, a command run by hand): all three UARTs share QEMU's
// stdio through a mux chardev, as one stream.

import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { DriverContext, HostDriver } from './types.js';

export const COM1_IOBASE = 0x3f8;
export const COM3_IOBASE = 0x3e8;
export const COM4_IOBASE = 0x2e8;
/** The fds QEMU inherits in relay mode: COM1 (stdin+stdout), COM3, COM4. */
export const RELAY_FDS = { console: 3, stderr: 4, log: 5 } as const;

export type ConsoleMode = 'relay' | 'stdio';

const ESC = 0xff;
export const STDIN_EOF = Buffer.from([ESC, 0x00]);

export const serialConsole: HostDriver = {
  name: 'serial-console',
  qemuArgs: (ctx: DriverContext) => {
    const uart = (id: string, iobase: number, irq: number) => [
      '-device',
      `isa-serial,chardev=${id},iobase=0x${iobase.toString(16)},irq=${irq}`,
    ];
    if (ctx.console !== 'relay') {
      // A mux gives its input to the UART attached last: COM1 comes last
      // (microvm's own COM1 is turned off in qemuArgv).
      return [
        '-chardev',
        'stdio,id=osvb-con,mux=on',
        ...uart('osvb-con', COM3_IOBASE, 4),
        ...uart('osvb-con', COM4_IOBASE, 3),
        ...uart('osvb-con', COM1_IOBASE, 4),
      ];
    }
    // COM3 and COM4 share IRQ 4 and 3 with COM1 and COM2, as on a PC; the guest
    // never enables their interrupts.
    return [
      '-chardev',
      `socket,id=osvb-con,fd=${RELAY_FDS.console}`,
      '-serial',
      'chardev:osvb-con',
      '-chardev',
      `socket,id=osvb-err,fd=${RELAY_FDS.stderr}`,
      ...uart('osvb-err', COM3_IOBASE, 4),
      '-chardev',
      `socket,id=osvb-log,fd=${RELAY_FDS.log}`,
      ...uart('osvb-log', COM4_IOBASE, 3),
    ];
  },
};

export interface TtySize {
  rows: number;
  cols: number;
}

/** Kernel arguments for a relayed console: framed stdin, and a terminal only when asked. */
export function relayCmdline(tty: TtySize | undefined): string[] {
  const args = ['osvb.stdin=stream'];
  if (tty) args.push(tty.rows > 0 && tty.cols > 0 ? `osvb.tty=${tty.rows}x${tty.cols}` : 'osvb.tty=1');
  return args;
}

/** Frames host stdin bytes for the guest: every 0xff doubled. */
export function encodeStdin(chunk: Buffer): Buffer {
  let n = 0;
  for (const b of chunk) if (b === ESC) n++;
  if (n === 0) return chunk;
  const out = Buffer.allocUnsafe(chunk.length + n);
  let j = 0;
  for (const b of chunk) {
    out[j++] = b;
    if (b === ESC) out[j++] = ESC;
  }
  return out;
}

/** Where a stream goes: a Writable (with back-pressure) or a function. */
export type Sink = Writable | ((chunk: Buffer) => void);

export interface RelayStreams {
  /** osvb's stdin; undefined: end of file at once. */
  stdin?: Readable;
  stdout: Sink;
  stderr: Sink;
  /** Kernel messages, decoded as UTF-8 text. */
  log: (text: string) => void;
}

/** The host end of the three sockets; resolves `done` when all three closed. */
export class ConsoleRelay {
  readonly done: Promise<void>;
  private stdinCleanup: () => void = () => {};

  constructor(console: Readable & Writable, err: Readable, log: Readable, streams: RelayStreams) {
    const closed = [console, err, log].map(
      (s) => new Promise<void>((res) => s.once('close', () => res()).once('error', () => res())),
    );
    this.done = Promise.all(closed).then(() => undefined);
    console.on('error', () => {}); // the guest gone: the end of QEMU says why
    pipeTo(console, streams.stdout);
    pipeTo(err, streams.stderr);
    const dec = new StringDecoder('utf8');
    let startStdin: (() => void) | undefined = () => this.forwardStdin(streams.stdin, console);
    log.on('data', (d: Buffer) => {
      let text = d;
      const nul = startStdin ? d.indexOf(0) : -1;
      if (nul >= 0) {
        // The kernel listens now (its NUL on the log UART): stdin may flow.
        text = Buffer.concat([d.subarray(0, nul), d.subarray(nul + 1)]);
        startStdin?.();
        startStdin = undefined;
      }
      if (text.length) streams.log(dec.write(text));
    });
    log.on('end', () => {
      const rest = dec.end();
      if (rest) streams.log(rest);
    });
  }

  private forwardStdin(stdin: Readable | undefined, to: Writable): void {
    const send = (b: Buffer) => {
      if (!to.destroyed) return to.write(b);
      return true;
    };
    if (!stdin || stdin.destroyed || stdin.readableEnded) {
      send(STDIN_EOF);
      return;
    }
    const onData = (d: Buffer | string) => {
      if (!send(encodeStdin(typeof d === 'string' ? Buffer.from(d) : d))) {
        stdin.pause();
        to.once('drain', () => stdin.resume());
      }
    };
    let ended = false;
    const onEnd = () => {
      if (!ended) send(STDIN_EOF);
      ended = true;
    };
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', onEnd);
    stdin.once('close', onEnd);
    this.stdinCleanup = () => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onEnd);
      stdin.off('close', onEnd);
      stdin.pause();
    };
    stdin.resume();
  }

  /** Stops reading osvb's stdin (QEMU has ended). */
  close(): void {
    this.stdinCleanup();
  }
}

/** Guest bytes to a sink; a Writable gets back-pressure (the guest waits), and
 * a reader that went away (EPIPE) only stops the copying. */
function pipeTo(from: Readable, to: Sink): void {
  if (typeof to === 'function') {
    from.on('data', (d: Buffer) => to(d));
    return;
  }
  let broken = false;
  const onError = () => {
    broken = true;
    from.unpipe(to);
    from.resume(); // keep draining so the guest never blocks on a dead reader
  };
  to.once('error', onError);
  from.pipe(to, { end: false });
  from.once('close', () => {
    to.off('error', onError);
    if (broken) to.on('error', () => {});
  });
}
