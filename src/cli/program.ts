// `osvb run ./program`: a Linux program without an app.yaml gets a default
// image, built once into the user's cache and reused while nothing changed
// (like `docker run image`). Also the --log file.

import { createHash } from 'node:crypto';
import type { WriteStream } from 'node:fs';
import { mkdir, open, readFile, realpath, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RunError } from '../errors.js';
import { cacheRoot } from '../kernel/cache.js';
import { type BuildEntryOptions, type BuildOutcome, buildOrReuse } from './build.js';

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Is the run operand a program file rather than an image directory? Refuses other files. */
export async function isProgramFile(path: string): Promise<boolean> {
  const st = await stat(path).catch(() => undefined);
  if (!st || st.isDirectory()) return false; // an image directory (or a missing one: readManifest says so)
  if (!st.isFile()) throw new RunError(`${path} is neither an image directory nor a program file`);
  const magic = await head(path, 4);
  if (magic.equals(ELF_MAGIC)) return true;
  const text = magic.toString('latin1');
  throw new RunError(`${path} is not an image directory or a Linux program (ELF)`, {
    hint: text.startsWith('#!')
      ? 'a script needs its interpreter: write an app.yaml (for Python: runtime: python, script: FILE)'
      : 'give an image directory written by osvb build, or an x86-64 ELF program',
  });
}

/** The default app.yaml for a program: its name and the program, nothing else. */
export function defaultAppYaml(program: string): string {
  const name =
    basename(program)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^[._-]+/, '') || 'program';
  return `# written by osvb run for ${program}\nname: ${name}\napp:\n  exec: ${JSON.stringify(program)}\n`;
}

/** Builds (or reuses) the default image for a program; the app.yaml lives in the user's cache. */
export async function programImage(path: string, opts: BuildEntryOptions): Promise<BuildOutcome> {
  const program = await realpath(path);
  const dir = join(
    cacheRoot(process.env),
    'programs',
    createHash('sha256').update(program).digest('hex').slice(0, 20),
  );
  const appFile = join(dir, 'app.yaml');
  const text = defaultAppYaml(program);
  // Rewritten only when it changes: its mtime is part of the staleness check.
  if ((await readFile(appFile, 'utf8').catch(() => '')) !== text) {
    await mkdir(dir, { recursive: true });
    await writeFile(appFile, text);
  }
  return buildOrReuse(appFile, opts);
}

/** Opens --log FILE for writing; a place osvb cannot write is one clear error. */
export async function openLog(file: string): Promise<WriteStream> {
  try {
    const fh = await open(file, 'w');
    return fh.createWriteStream();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RunError(`cannot write the log file ${file}: ${e.code ?? e.message}`);
  }
}
