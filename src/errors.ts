// Typed errors. Every failure the user can cause or fix is one of these; the CLI
// prints it as one line ("osvb: file:line:col: message") and exits non-zero.

export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export interface ErrorOptions {
  loc?: SourceLocation;
  /** Process exit status; 1 unless the error says otherwise. */
  exitCode?: number;
  /** A second sentence telling the user what to do. */
  hint?: string;
  cause?: unknown;
}

export class OsvbError extends Error {
  readonly loc: SourceLocation | undefined;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.loc = opts.loc;
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
  }
}

/** app.yaml and other osvb input files. */
export class ConfigError extends OsvbError {}
/** Kconfig syntax and semantics. */
export class KconfigError extends OsvbError {}
/** Compiling, linking, assembling an image. */
export class BuildError extends OsvbError {}
/** Untrusted input files: ELF, archives, paths. */
export class InputError extends OsvbError {}
/** Launching or supervising a guest. */
export class RunError extends OsvbError {}

/** A host tool is missing or unusable; names the Debian package that provides it. */
export class ToolMissingError extends OsvbError {
  readonly tool: string;
  readonly debianPackage: string | undefined;
  constructor(tool: string, debianPackage?: string, detail?: string) {
    super(`${tool} not found${detail ? ` (${detail})` : ''}`, {
      hint: debianPackage ? `install it: apt-get install ${debianPackage}` : undefined,
    });
    this.tool = tool;
    this.debianPackage = debianPackage;
  }
}

export function formatLocation(loc: SourceLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) {
    s += `:${loc.line}`;
    if (loc.column !== undefined) s += `:${loc.column}`;
  }
  return s;
}

/** The one line printed for an error. */
export function formatError(err: OsvbError): string {
  const where = err.loc ? `${formatLocation(err.loc)}: ` : '';
  const hint = err.hint ? `; ${err.hint}` : '';
  return `osvb: ${where}${err.message}${hint}`;
}
