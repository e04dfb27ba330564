// C library number parsing as Linux's kconfig uses it (strtoll/strtoull with
// their saturation, partial parses and base detection), on 64-bit BigInts.

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

export interface StrtolResult {
  value: bigint;
  /** Index just after the last character used; 0 when no conversion was done. */
  end: number;
  overflow: boolean;
}

const isSpace = (c: string): boolean => c === ' ' || (c >= '\t' && c <= '\r');

function digitValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 122) return c - 87;
  if (c >= 65 && c <= 90) return c - 55;
  return 99;
}

function parse(s: string, base: number, unsigned: boolean): StrtolResult {
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  const hexPrefix =
    s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s.charCodeAt(i + 2)) < 16;
  if ((base === 16 || base === 0) && hexPrefix) {
    i += 2;
    base = 16;
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10;
  }
  const start = i;
  let v = 0n;
  const b = BigInt(base);
  for (; i < s.length; i++) {
    const d = digitValue(s.charCodeAt(i));
    if (d >= base) break;
    v = v * b + BigInt(d);
  }
  if (i === start) {
    // "0x" without hex digits parses as the "0".
    return { value: 0n, end: 0, overflow: false };
  }
  let overflow = false;
  if (unsigned) {
    if (v > UINT64_MAX) {
      overflow = true;
      v = UINT64_MAX;
    } else if (neg) v = BigInt.asUintN(64, -v);
  } else {
    if (neg) v = -v;
    if (v > INT64_MAX) {
      overflow = true;
      v = INT64_MAX;
    } else if (v < INT64_MIN) {
      overflow = true;
      v = INT64_MIN;
    }
  }
  return { value: v, end: i, overflow };
}

export function strtoll(s: string, base: number): StrtolResult {
  return parse(s, base, false);
}

export function strtoull(s: string, base: number): StrtolResult {
  return parse(s, base, true);
}

const isXDigit = (c: string | undefined): boolean => c !== undefined && /[0-9a-fA-F]/.test(c);

/** Linux's sym_string_valid for int. */
export function validInt(s: string): boolean {
  return /^-?(0|[1-9][0-9]*)$/.test(s) || s === '-0';
}

/** Linux's sym_string_valid for hex. */
export function validHex(s: string): boolean {
  return /^(0[xX])?[0-9a-fA-F]+$/.test(s);
}

export type NumKind = 'string' | 'signed' | 'unsigned';

/** expr.c's expr_parse_string: how a value compares in <, >, = expressions. */
export function parseForCompare(
  str: string,
  type: 'tri' | 'int' | 'hex' | 'other',
): { kind: NumKind; v: bigint } {
  if (type === 'tri') {
    const v = str === 'n' ? 0n : str === 'm' ? 1n : str === 'y' ? 2n : -1n;
    return { kind: 'signed', v };
  }
  const r = type === 'int' ? strtoll(str, 10) : type === 'hex' ? strtoull(str, 16) : strtoll(str, 0);
  const ok = !r.overflow && r.end === str.length && r.end > 0 && isXDigit(str[r.end - 1]);
  return { kind: ok ? (type === 'hex' ? 'unsigned' : 'signed') : 'string', v: r.value };
}
