// Running host tools. execa is imported lazily: an unchanged rebuild runs no
// tool and should not pay for loading it.

import { BuildError } from '../errors.js';

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion and returns its exit code and output; never throws on a non-zero exit. */
export async function execTool(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<ToolResult> {
  const { execa } = await import('execa');
  const r = await execa(file, args, { env, extendEnv: false, reject: false, cwd, stripFinalNewline: false });
  if (r.failed && r.exitCode === undefined) {
    throw new BuildError(`cannot run ${file}: ${r.shortMessage ?? r.message}`);
  }
  return { exitCode: r.exitCode ?? 1, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** Runs a tool and returns its stdout; a non-zero exit is a BuildError with its stderr. */
export async function runTool(
  file: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const r = await execTool(file, args, env);
  if (r.exitCode !== 0) {
    throw new BuildError(`${file} ${args.join(' ')} failed (exit ${r.exitCode}): ${firstLines(r.stderr)}`);
  }
  return r.stdout;
}

export function firstLines(s: string, n = 3): string {
  return s.trim().split('\n').slice(0, n).join(' | ');
}
