// Tokenizer for one Kconfig file, following the token rules of Linux's
// lexer.l: keywords, words ([A-Za-z0-9_-]+, with $(...) expanded), quoted
// strings (with $(...) expanded and backslash escapes), operators, `#`
// comments, backslash-newline continuation, the raw right-hand side of
// variable assignments, and indentation-delimited help text.

import type { Diagnostic } from './index.js';
import type { Preprocessor } from './preprocess.js';

export enum T {
  Eol = 1,
  Word,
  Quote,
  Keyword,
  Or,
  And,
  Eq,
  Neq,
  Lt,
  Le,
  Gt,
  Ge,
  Not,
  LParen,
  RParen,
  ColonEq,
  PlusEq,
  AssignVal,
  Eof,
}

export interface Token {
  t: T;
  /** Word/string value or keyword name. */
  v: string;
  line: number;
  col: number;
}

const KEYWORDS = new Set([
  'bool',
  'choice',
  'comment',
  'config',
  'def_bool',
  'def_tristate',
  'default',
  'depends',
  'endchoice',
  'endif',
  'endmenu',
  'help',
  'hex',
  'if',
  'imply',
  'int',
  'mainmenu',
  'menu',
  'menuconfig',
  'modules',
  'on',
  'optional',
  'prompt',
  'range',
  'select',
  'source',
  'rsource',
  'osource',
  'orsource',
  'string',
  'tristate',
  'visible',
  'transitional',
]);

const isWordChar = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;

/** isWordChar as a table, for the hot loop. */
const WORD_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) WORD_CHAR[c] = isWordChar(c) ? 1 : 0;

export class Lexer {
  private p = 0;
  line = 1;
  private prevTok: T = T.Eol;
  private prevPrevTok: T = T.Eol;
  private pending: Token | null = null;
  /** Line of the first token of the current statement. */
  stmtLine = 1;

  constructor(
    private readonly src: string,
    readonly file: string,
    private readonly pp: Preprocessor,
    private readonly diag: (d: Diagnostic) => void,
  ) {}

  peek(): Token {
    if (!this.pending) this.pending = this.next();
    return this.pending;
  }

  take(): Token {
    const t = this.peek();
    this.pending = null;
    return t;
  }

  private next(): Token {
    for (;;) {
      const tok = this.scan();
      // Blank lines never reach the parser; the first token of a statement fixes its line.
      if (this.prevTok === T.Eol) {
        if (tok.t === T.Eol) continue;
        this.stmtLine = tok.line;
      }
      this.prevPrevTok = this.prevTok;
      this.prevTok = tok.t;
      return tok;
    }
  }

  private scan(): Token {
    const s = this.src;
    const n = s.length;
    for (;;) {
      if (this.p >= n) return this.tok(T.Eof, '', this.line, 0);
      const c = s.charCodeAt(this.p);
      if (c === 32 || c === 9) {
        this.p++;
        continue;
      }
      if (c === 35 /* # */) {
        while (this.p < n && s.charCodeAt(this.p) !== 10) this.p++;
        continue;
      }
      if (c === 92 /* \ */ && s.charCodeAt(this.p + 1) === 10) {
        this.p += 2;
        this.line++;
        this.lineStart = this.p;
        continue;
      }
      break;
    }
    const line = this.line;
    const col = this.col(this.p);
    const c = s.charCodeAt(this.p);
    if (c === 10) {
      this.p++;
      this.line++;
      this.lineStart = this.p;
      return this.tok(T.Eol, '', line, col);
    }
    const c2 = s.charCodeAt(this.p + 1);
    switch (c) {
      case 124:
        if (c2 === 124) return this.op(T.Or, 2, line, col);
        break;
      case 38:
        if (c2 === 38) return this.op(T.And, 2, line, col);
        break;
      case 61:
        return this.maybeAssign(this.op(T.Eq, 1, line, col));
      case 33:
        return c2 === 61 ? this.op(T.Neq, 2, line, col) : this.op(T.Not, 1, line, col);
      case 60:
        return c2 === 61 ? this.op(T.Le, 2, line, col) : this.op(T.Lt, 1, line, col);
      case 62:
        return c2 === 61 ? this.op(T.Ge, 2, line, col) : this.op(T.Gt, 1, line, col);
      case 40:
        return this.op(T.LParen, 1, line, col);
      case 41:
        return this.op(T.RParen, 1, line, col);
      case 58:
        if (c2 === 61) return this.maybeAssign(this.op(T.ColonEq, 2, line, col));
        break;
      case 43:
        if (c2 === 61) return this.maybeAssign(this.op(T.PlusEq, 2, line, col));
        break;
      case 34:
      case 39:
        return this.string(c, line, col);
    }
    if (isWordChar(c) || c === 36) {
      let q = this.p;
      let dollar = false;
      while (q < n) {
        const d = s.charCodeAt(q);
        if (d < 128 && WORD_CHAR[d] === 1) q++;
        else if (d === 36) {
          dollar = true;
          q++;
        } else break;
      }
      if (!dollar) {
        const w = s.slice(this.p, q);
        this.p = q;
        return this.tok(KEYWORDS.has(w) ? T.Keyword : T.Word, w, line, col);
      }
      // A word with a '$': expand one token from here to the end of the line.
      const eol = this.eolIndex(this.p);
      const r = this.pp.expandToken(s, this.p, eol);
      this.p = r.end;
      if (r.out === '') return this.scan();
      return this.tok(T.Word, r.out, line, col);
    }
    this.diag({
      level: 'warning',
      message: `ignoring unsupported character '${s[this.p]}'`,
      loc: { file: this.file, line, column: col },
    });
    this.p++;
    return this.scan();
  }

  /**
   * Tokens come from a small ring of reused objects: the parser only looks at
   * a token shortly after taking it, and a Kconfig tree has ~1M tokens.
   */
  private readonly ring: Token[] = Array.from({ length: 16 }, () => ({ t: T.Eof, v: '', line: 0, col: 0 }));
  private ringNext = 0;

  private tok(t: T, v: string, line: number, col: number): Token {
    const k = this.ring[this.ringNext]!;
    this.ringNext = (this.ringNext + 1) & 15;
    k.t = t;
    k.v = v;
    k.line = line;
    k.col = col;
    return k;
  }

  private op(t: T, len: number, line: number, col: number): Token {
    this.p += len;
    return this.tok(t, '', line, col);
  }

  private eolIndex(from: number): number {
    const i = this.src.indexOf('\n', from);
    return i < 0 ? this.src.length : i;
  }

  private lineStart = 0;

  private col(p: number): number {
    return p - this.lineStart + 1;
  }

  /** `NAME =`, `NAME :=`, `NAME +=` at the start of a statement: the rest of the line is the raw value. */
  private maybeAssign(op: Token): Token {
    if (this.prevPrevTok === T.Eol && this.prevTok === T.Word) {
      // Deliver the operator now; the value is read when the parser asks for it.
      this.assignPending = true;
    }
    return op;
  }

  assignPending = false;

  /** Reads the raw assignment value (everything after the operator up to the newline, leading blanks skipped). */
  readAssignValue(): string {
    this.assignPending = false;
    const s = this.src;
    let p = this.p;
    while (p < s.length && (s.charCodeAt(p) === 32 || s.charCodeAt(p) === 9)) p++;
    const eol = this.eolIndex(p);
    this.p = eol;
    return s.slice(p, eol);
  }

  private string(quote: number, line: number, col: number): Token {
    const s = this.src;
    let out = '';
    this.p++;
    let run = this.p;
    for (;;) {
      if (this.p >= s.length) {
        out += s.slice(run, this.p);
        break;
      }
      const c = s.charCodeAt(this.p);
      if (c !== quote && c !== 10 && c !== 92 && c !== 36) {
        this.p++;
        continue;
      }
      out += s.slice(run, this.p);
      if (c === quote) {
        this.p++;
        break;
      }
      if (c === 10) {
        this.diag({
          level: 'warning',
          message: 'multi-line strings not supported',
          loc: { file: this.file, line },
        });
        break;
      }
      if (c === 92 /* \ */) {
        if (this.p + 1 < s.length && s.charCodeAt(this.p + 1) !== 10) {
          out += s[this.p + 1];
          this.p += 2;
        } else this.p++;
      } else {
        const r = this.pp.expandDollarAt(s, this.p + 1, this.eolIndex(this.p));
        out += r.out;
        this.p = r.end;
      }
      run = this.p;
    }
    return this.tok(T.Quote, out, line, col);
  }

  /**
   * Skips a help text starting at the current position (just after the
   * newline of the `help` line). The text's indentation is the first
   * non-blank line's; it ends at a non-blank line indented less. The text
   * itself is only built when asked for.
   */
  readHelp(): { text: () => string; blank: boolean } {
    const s = this.src;
    const start = this.p;
    let firstTs = 0;
    let end = start;
    for (;;) {
      if (this.p >= s.length) break;
      const eol = this.eolIndex(this.p);
      let ts = 0;
      let i = this.p;
      for (; i < eol; i++) {
        const c = s.charCodeAt(i);
        if (c === 9) ts = (ts & ~7) + 8;
        else if (c === 32) ts++;
        else break;
      }
      if (i < eol) {
        // Non-blank line: part of the help unless indented less than the first one.
        if (firstTs ? ts < firstTs : ts === 0) break;
        if (!firstTs) firstTs = ts;
        end = eol;
      }
      this.p = Math.min(eol + 1, s.length);
      this.line++;
      this.lineStart = this.p;
    }
    // The next statement starts on a fresh line.
    this.prevTok = T.Eol;
    this.prevPrevTok = T.Eol;
    this.pending = null;
    const ts0 = firstTs;
    return { text: () => helpText(s.slice(start, end), ts0), blank: ts0 === 0 };
  }
}

/** The help text with the common indentation removed and trailing blanks trimmed. */
function helpText(raw: string, firstTs: number): string {
  if (!firstTs) return '';
  let text = '';
  for (const line of raw.split('\n')) {
    let ts = 0;
    let i = 0;
    for (; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 9) ts = (ts & ~7) + 8;
      else if (c === 32) ts++;
      else break;
    }
    const rest = line.slice(i).replace(/[ \t]+$/, '');
    text += rest === '' ? '\n' : `${' '.repeat(Math.max(0, ts - firstTs))}${rest}\n`;
  }
  return text;
}
