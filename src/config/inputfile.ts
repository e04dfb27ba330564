// Reading a user-named input file (app.yaml, Kconfig, a defconfig or .config)
// safely: only a regular file, opened without blocking (a FIFO would wait for a
// writer forever) and read up to a cap (/dev/zero never ends; a "regular" file
// under /proc can report size 0 and still stream).

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError, type SourceLocation } from '../errors.js';

/** The most osvb reads from one input file (app.yaml, Kconfig, .config). */
export const MAX_INPUT_BYTES = 8 << 20;

function kindOf(mode: number): string {
  const t = mode & constants.S_IFMT;
  if (t === constants.S_IFIFO) return 'a FIFO';
  if (t === constants.S_IFCHR) return 'a character device';
  if (t === constants.S_IFBLK) return 'a block device';
  if (t === constants.S_IFSOCK) return 'a socket';
  if (t === constants.S_IFDIR) return 'a directory';
  return 'a special file';
}

/**
 * The bytes of `file`, refusing anything but a regular file of at most `max`
 * bytes with a ConfigError naming the file. `scratch` lends a reusable buffer
 * (the result is then a view into it, valid until the next call).
 * Open failures are thrown as they come (their `code` tells ENOENT apart).
 */
export function readInputFile(
  file: string,
  opts: { max?: number; scratch?: { buf: Buffer }; loc?: SourceLocation } = {},
): Buffer {
  const max = opts.max ?? MAX_INPUT_BYTES;
  const loc = opts.loc ?? { file };
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`${kindOf(st.mode)}, not a regular file`, { loc });
    const tooBig = (): ConfigError =>
      new ConfigError(`larger than ${max >> 20} MiB, more than any input osvb reads`, { loc });
    if (st.size > max) throw tooBig();
    const holder = opts.scratch ?? { buf: Buffer.allocUnsafe(Math.max(st.size + 1, 4096)) };
    let n = 0;
    for (;;) {
      if (n === holder.buf.length) {
        if (n > max) throw tooBig();
        const bigger = Buffer.allocUnsafe(Math.min(holder.buf.length * 2, max + 1));
        holder.buf.copy(bigger, 0, 0, n);
        holder.buf = bigger;
      }
      let r: number;
      try {
        r = readSync(fd, holder.buf, n, holder.buf.length - n, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new ConfigError(`cannot read (${code})`, { loc, cause: err });
      }
      if (r === 0) break;
      n += r;
    }
    if (n > max) throw tooBig();
    return holder.buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
