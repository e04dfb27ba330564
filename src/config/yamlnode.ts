// Small helpers for walking a parsed YAML document with exact source positions:
// every complaint names file:line:col of the node it is about.

import {
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { ConfigError, type SourceLocation } from '../errors.js';

export class YamlContext {
  constructor(
    readonly file: string,
    readonly lines: LineCounter,
  ) {}

  /** Location of the first character of `node` (or just the file when there is no node). */
  loc(node: Node | null | undefined): SourceLocation {
    const offset = node?.range?.[0];
    return offset === undefined ? { file: this.file } : this.locAt(offset);
  }

  locAt(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  fail(node: Node | null | undefined, message: string, hint?: string): never {
    throw new ConfigError(message, { loc: this.loc(node), hint });
  }
}

/** "a map", "a list", "a string", … — for "expected X, got Y" messages. */
export function describeNode(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isAlias(node)) return 'an alias';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'number' || typeof v === 'bigint') return `a number (${node.source ?? String(v)})`;
    if (typeof v === 'boolean') return `a boolean (${String(v)})`;
    if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  }
  return 'an unsupported value';
}

export function isNull(node: Node | null | undefined): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** The node as a map; null (an empty `key:`) reads as an absent map. */
export function expectMap(
  ctx: YamlContext,
  node: Node | null | undefined,
  what: string,
): YAMLMap | undefined {
  if (isNull(node)) return undefined;
  if (isMap(node)) return node;
  return ctx.fail(node, `${what}: expected a map, got ${describeNode(node)}`);
}

export interface Entry {
  key: string;
  keyNode: Node;
  value: Node | null;
}

/** The entries of a map with string keys; anything else as a key is an error at that key. */
export function entries(ctx: YamlContext, map: YAMLMap | undefined, what: string): Entry[] {
  if (map === undefined) return [];
  return map.items.map((pair: Pair) => {
    const k = isNode(pair.key) ? pair.key : null;
    const v = isNode(pair.value) ? pair.value : null;
    if (k === null) return ctx.fail(v, `${what}: an entry without a key`);
    if (isAlias(k) || isAlias(v ?? undefined)) {
      return ctx.fail(
        isAlias(k) ? k : v,
        'YAML aliases are not supported in app.yaml',
        'write the value out',
      );
    }
    if (isScalar(k) && (typeof k.value === 'string' || typeof k.value === 'number')) {
      return { key: String(k.value), keyNode: k, value: v };
    }
    return ctx.fail(k, `${what}: keys must be plain strings, got ${describeNode(k)}`);
  });
}

/**
 * A scalar's text as the user wrote it: strings as they are; numbers and
 * booleans as in the file, so `0x10` stays `0x10`, not 16.
 */
export function scalarText(node: Node): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint')
    return node.source ?? String(v);
  return undefined;
}

/** A string value; numbers and booleans are not strings here. */
export function expectString(ctx: YamlContext, node: Node | null, what: string): string {
  if (isScalar(node) && typeof node.value === 'string') return node.value;
  if (isAlias(node))
    return ctx.fail(node, 'YAML aliases are not supported in app.yaml', 'write the value out');
  return ctx.fail(node, `${what}: expected a string, got ${describeNode(node)}`);
}

/** A scalar of any kind (string, number, boolean) as its text; for args and env values. */
export function expectScalarText(ctx: YamlContext, node: Node | null, what: string): string {
  const text = node === null ? undefined : scalarText(node);
  if (text !== undefined) return text;
  if (isAlias(node))
    return ctx.fail(node, 'YAML aliases are not supported in app.yaml', 'write the value out');
  return ctx.fail(node, `${what}: expected a string, got ${describeNode(node)}`);
}
