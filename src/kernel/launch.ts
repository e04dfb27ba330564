// How the program starts: the kernel command line osvb writes at build time
// and rebuilds at run time for -e, -w and -- (no heavy imports: osvb run loads it).

import { posix } from 'node:path';

/** The kernel's command line buffer (boot_info) holds this many bytes. */
export const KERNEL_CMDLINE_MAX = 4095;

/** Why a working directory cannot be used (undefined: it can): absolute, normalized, no quotes or spaces. */
export function guestDirProblem(dir: string): string | undefined {
  if (!dir.startsWith('/')) return 'must be an absolute path in the image';
  if (dir !== '/' && posix.normalize(dir).replace(/\/$/, '') !== dir) return 'is not normalized';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/["\u0000-\u001f\u007f]/.test(dir)) return 'contains a quote or control character';
  if (dir.length > 1024) return 'is longer than 1024 bytes';
  return undefined;
}

/** What starts the program: recorded in the manifest so osvb run can override
 * env, args and workdir without a rebuild. */
export interface AppLaunch {
  /** [program] or [python, script]: what runs before args. */
  command: string[];
  args: string[];
  env: Record<string, string>;
  workdir?: string;
}

/** Reports a word the command line cannot carry; key: 'app.args', 'app.env', ... */
export type CmdlineFail = (key: string, message: string) => never;

/** One command-line word: the kernel groups "..." and has no escapes. */
function cmdlineWord(word: string, what: string, key: string, fail: CmdlineFail): string {
  if (word.includes('"')) {
    fail(key, `${what} ${JSON.stringify(word)} contains '"', which the kernel command line cannot carry`);
  }
  if ([...word].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    fail(key, `${what} ${JSON.stringify(word)} contains a control character`);
  }
  if (word.startsWith('osvb.')) {
    fail(key, `${what} ${JSON.stringify(word)} starts with "osvb.", which the kernel takes as its option`);
  }
  return word === '' || /\s/.test(word) ? `"${word}"` : word;
}

/**
 * The kernel command line: the kernel arguments, then
 * `[osvb.cwd=DIR] osvb.exec=PROGRAM NAME=VALUE... -- ARGS...` when there is a program.
 */
export function launchCmdline(kernelArgs: string, launch: AppLaunch | undefined, fail: CmdlineFail): string {
  const words: string[] = kernelArgs === '' ? [] : [kernelArgs];
  if (launch !== undefined) {
    const [prog, ...lead] = launch.command;
    if (launch.workdir !== undefined && launch.workdir !== '/') {
      words.push(`osvb.cwd=${cmdlineWord(launch.workdir, 'working directory', 'app.workdir', fail)}`);
    }
    words.push(`osvb.exec=${cmdlineWord(prog ?? '', 'program path', 'app.exec', fail)}`);
    for (const [k, v] of Object.entries(launch.env)) {
      words.push(cmdlineWord(`${k}=${v}`, 'app.env entry', 'app.env', fail));
    }
    words.push('--');
    for (const a of lead) words.push(cmdlineWord(a, 'program argument', 'app.exec', fail));
    for (const a of launch.args) words.push(cmdlineWord(a, 'app.args entry', 'app.args', fail));
  }
  const line = words.join(' ');
  if (Buffer.byteLength(line) > KERNEL_CMDLINE_MAX) {
    fail(
      'app.args',
      `the kernel command line would be ${Buffer.byteLength(line)} bytes; the kernel takes ${KERNEL_CMDLINE_MAX}`,
    );
  }
  return line;
}
