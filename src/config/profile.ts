// Profiles: kconfig/profiles/<name>.defconfig. A profile is an ordinary
// defconfig fragment; its leading comment block describes it for people. The
// QEMU machine type is not in the profile but in the configuration itself
// (CONFIG_QEMU_MACHINE, which follows from the PLATFORM_* choice), so a user's
// kernel.config cannot make the configuration and the VM disagree.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type SourceLocation } from '../errors.js';
import type { ConfigValue } from './appspec.js';
import { readInputFile } from './inputfile.js';
import { closest } from './suggest.js';

export const PROFILE_DIR = 'kconfig/profiles';
const PROFILE_EXT = '.defconfig';

export interface DefconfigLine {
  symbol: string;
  value: ConfigValue;
  loc: SourceLocation;
}

export interface Profile {
  name: string;
  /** Path of the profile file (absolute). */
  file: string;
  /** The leading comment block, without '# '. */
  description: string;
  lines: DefconfigLine[];
}

const SET_RE = /^CONFIG_([A-Za-z0-9_]+)=(.*)$/;
const UNSET_RE = /^# CONFIG_([A-Za-z0-9_]+) is not set$/;

/** Parses a defconfig fragment the way Linux's conf reads one, strictly: anything else is an error. */
export function parseDefconfig(text: string, file: string): DefconfigLine[] {
  const out: DefconfigLine[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trimEnd();
    const loc: SourceLocation = { file, line: i + 1, column: 1 };
    const unset = UNSET_RE.exec(line);
    if (unset !== null) {
      out.push({ symbol: unset[1] ?? '', value: { kind: 'tristate', text: 'n' }, loc });
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    const set = SET_RE.exec(line);
    if (set === null) {
      throw new ConfigError(`not a defconfig line: ${JSON.stringify(line)}`, {
        loc,
        hint: 'write CONFIG_NAME=value or "# CONFIG_NAME is not set"',
      });
    }
    const symbol = set[1] ?? '';
    const rawValue = set[2] ?? '';
    out.push({ symbol, value: parseDefconfigValue(rawValue, loc), loc });
  });
  return out;
}

function parseDefconfigValue(raw: string, loc: SourceLocation): ConfigValue {
  if (raw === 'y' || raw === 'n' || raw === 'm') return { kind: 'tristate', text: raw };
  if (/^-?[0-9]+$/.test(raw) || /^0[xX][0-9a-fA-F]+$/.test(raw)) return { kind: 'number', text: raw };
  if (raw.startsWith('"')) {
    let text = '';
    for (let i = 1; i < raw.length; i++) {
      const c = raw[i];
      if (c === '\\' && i + 1 < raw.length) {
        text += raw[++i];
      } else if (c === '"') {
        if (i !== raw.length - 1) break;
        return { kind: 'string', text };
      } else {
        text += c;
      }
    }
  }
  throw new ConfigError(`invalid value ${raw}`, { loc, hint: 'use y, n, m, a number or a "quoted string"' });
}

/** Names of the profiles in a source tree. */
export function listProfiles(srctree: string): string[] {
  try {
    return readdirSync(path.join(srctree, PROFILE_DIR))
      .filter((f) => f.endsWith(PROFILE_EXT))
      .map((f) => f.slice(0, -PROFILE_EXT.length))
      .sort();
  } catch {
    return [];
  }
}

/** Loads kconfig/profiles/<name>.defconfig; `requestedAt` is where the name was written (app.yaml). */
export function loadProfile(srctree: string, name: string, requestedAt?: SourceLocation): Profile {
  const file = path.join(srctree, PROFILE_DIR, `${name}${PROFILE_EXT}`);
  let text: string;
  try {
    text = readInputFile(file).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const known = listProfiles(srctree);
    const near = closest(name, known);
    throw new ConfigError(`unknown kernel profile ${JSON.stringify(name)}`, {
      loc: requestedAt,
      hint:
        near !== undefined
          ? `did you mean ${near}?`
          : `profiles: ${known.join(', ') || `none in ${PROFILE_DIR}`}`,
    });
  }
  const description: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('#') || UNSET_RE.test(line)) break;
    description.push(line.replace(/^# ?/, ''));
  }
  return { name, file, description: description.join('\n'), lines: parseDefconfig(text, file) };
}
