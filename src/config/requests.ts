// What osvb asks the Kconfig resolver for, and why. Requests come from three
// places, in this order so the later wins: the profile, what the application's
// ELF needs (one table, below), and app.yaml's kernel.config (the user).
// Each request carries a one-line reason that `osvb config explain` prints.

import { ConfigError, type SourceLocation } from '../errors.js';
import type { AppSpec, ConfigValue } from './appspec.js';
import type { Profile } from './profile.js';
import type { AppRequirements } from './requirements.js';
import { closestSymbol } from './suggest.js';

export type RequestOrigin = 'profile' | 'requirement' | 'app.yaml';

export interface ConfigRequest {
  symbol: string;
  value: ConfigValue;
  origin: RequestOrigin;
  /**
   * One line: "requested by app.yaml line 12", "requested because app.exec is a
   * Go binary". Derived requests name the app.yaml key; `loc` says where it is.
   */
  reason: string;
  /** Where the request was written (app.yaml or the profile), or what caused it. */
  loc?: SourceLocation;
  /** A later request for the same symbol that replaced this one. */
  overriddenBy?: ConfigRequest;
  /** What the user gets when this cannot be met, in app.yaml's terms (no Kconfig names). */
  unmet?: string;
}

const Y: ConfigValue = { kind: 'tristate', text: 'y' };

interface RuleContext {
  spec: AppSpec | undefined;
  req: AppRequirements;
}

interface RequirementRule {
  /** Symbols and the values this rule asks for. */
  set: readonly string[];
  /** The reason when the rule applies, else undefined; `unmet`: what the user gets when it cannot be met, in their terms. */
  when(ctx: RuleContext): { reason: string; loc?: SourceLocation; unmet?: string } | undefined;
}

function execShown(ctx: RuleContext): string {
  return ctx.spec?.app?.execDefaulted
    ? `the host python3 (${ctx.spec.app.exec})`
    : (ctx.spec?.app?.exec ?? 'app.exec');
}

/** The reason for virtio disk drivers, when the image has virtio disks on (or not on) microvm. */
function virtioDisks(
  ctx: RuleContext,
  microvm: boolean,
): { reason: string; loc?: SourceLocation } | undefined {
  const disks = ctx.spec?.disks?.filter((d) => d.interface === 'virtio') ?? [];
  if (disks.length === 0 || (ctx.spec?.kernel.profile === 'microvm') !== microvm) return undefined;
  const first = disks[0];
  const where = first?.loc?.file === '--disk' ? 'osvb run --disk' : 'disks:';
  return {
    reason: `requested because ${where} has ${disks.length} virtio disk${disks.length > 1 ? 's' : ''}`,
    loc: first?.loc?.file === '--disk' ? undefined : (ctx.spec?.locs.disks ?? first?.loc),
  };
}

/** The reason for the network stack and virtio-net, when the image has NICs on (or not on) microvm. */
function networkNics(
  ctx: RuleContext,
  microvm: boolean,
): { reason: string; loc?: SourceLocation } | undefined {
  const nics = (ctx.spec?.network ?? []).filter((n) => n.model !== 'igbvf');
  if (nics.length === 0 || (ctx.spec?.kernel.profile === 'microvm') !== microvm) return undefined;
  if (ctx.spec?.locs.network === undefined && ctx.req.sockets !== undefined)
    return {
      reason: `requested because app.exec ${execShown(ctx)} opens sockets (${ctx.req.sockets}) and app.yaml has no network: (one user-mode NIC by default; network: none turns it off)`,
      loc: ctx.spec?.locs['app.exec'] ?? ctx.spec?.locs['app.runtime'],
    };
  return {
    reason: `requested because network: has ${nics.length} NIC${nics.length > 1 ? 's' : ''}`,
    loc: ctx.spec?.locs.network,
  };
}

/** The reason for the 9p drivers, when the image shares volumes on (or not on) microvm. */
function volumes9p(ctx: RuleContext, microvm: boolean): { reason: string; loc?: SourceLocation } | undefined {
  if (ctx.spec?.rootfs === '9p' && (ctx.spec.kernel.profile === 'microvm') === microvm)
    return { reason: 'requested because rootfs is 9p', loc: ctx.spec.locs.rootfs };
  const vols = ctx.spec?.volumes ?? [];
  if (vols.length === 0 || (ctx.spec?.kernel.profile === 'microvm') !== microvm) return undefined;
  const fromFlag = vols[0]?.loc?.file === '-v';
  return {
    reason: `requested because ${fromFlag ? 'osvb run -v' : 'volumes:'} shares ${vols.length} host director${vols.length > 1 ? 'ies' : 'y'}`,
    loc: fromFlag ? undefined : (ctx.spec?.locs.volumes ?? vols[0]?.loc),
  };
}

/** The reason for the ZFS reader and its disk drivers, when rootfs is zfs on (or not on) microvm. */
function zfsRoot(ctx: RuleContext, microvm: boolean): { reason: string; loc?: SourceLocation } | undefined {
  if (ctx.spec?.rootfs !== 'zfs' || (ctx.spec.kernel.profile === 'microvm') !== microvm) return undefined;
  return { reason: 'requested because rootfs is zfs', loc: ctx.spec.locs.rootfs };
}

/**
 * The one table from application requirements to Kconfig requests. Every
 * symbol is set to y; a symbol the tree does not define yet is reported as an
 * unmet request, never dropped.
 */
export const REQUIREMENT_RULES: readonly RequirementRule[] = [
  {
    set: ['ELF_LOADER', 'LINUX_ABI'],
    when: (ctx) =>
      ctx.req.kind === 'none'
        ? undefined
        : {
            reason: `requested because app.exec ${execShown(ctx)} is a ${ctx.req.kind} Linux ELF`,
            loc: ctx.spec?.locs['app.exec'] ?? ctx.spec?.locs['app.runtime'],
          },
  },
  {
    set: ['ELF_DYNAMIC', 'VFS_MMAP_FILE'],
    when: (ctx) =>
      ctx.req.kind === 'dynamic'
        ? {
            reason: `requested because app.exec ${execShown(ctx)} is a dynamic ELF with interpreter ${ctx.req.interpreter ?? '(none)'}`,
            loc: ctx.spec?.locs['app.exec'] ?? ctx.spec?.locs['app.runtime'],
          }
        : undefined,
  },
  {
    set: ['RUNTIME_GO'],
    when: (ctx) => {
      if (ctx.req.go)
        return {
          reason: `requested because app.exec ${execShown(ctx)} is a Go binary`,
          loc: ctx.spec?.locs['app.exec'],
        };
      const rt = ctx.spec?.locs['app.runtime'];
      if (ctx.spec?.app?.runtime === 'go') return { reason: `requested because app.runtime is go`, loc: rt };
      return undefined;
    },
  },
  {
    set: ['RUNTIME_PYTHON'],
    when: (ctx) => {
      const rt = ctx.spec?.locs['app.runtime'];
      if (ctx.spec?.app?.runtime === 'python')
        return { reason: `requested because app.runtime is python`, loc: rt };
      if (ctx.req.python) return { reason: 'requested because the app is a Python program' };
      return undefined;
    },
  },
  {
    set: ['SELFTEST'],
    when: (ctx) => {
      const arg = ctx.spec?.kernel.cmdline.split(/\s+/).find((a) => a.startsWith('osvb.selftest='));
      const loc = ctx.spec?.locs['kernel.cmdline'];
      return arg === undefined ? undefined : { reason: `requested because kernel.cmdline has ${arg}`, loc };
    },
  },
  {
    // virtio disks: the driver and the machine's transport (virtio-mmio on microvm, virtio-pci elsewhere).
    set: ['VIRTIO_BLK', 'VIRTIO_MMIO'],
    when: (ctx) => virtioDisks(ctx, true),
  },
  {
    set: ['VIRTIO_BLK', 'VIRTIO_PCI'],
    when: (ctx) => virtioDisks(ctx, false),
  },
  {
    // NICs: the stack, the driver and the machine's transport.
    set: ['LWIP', 'VIRTIO_NET', 'VIRTIO_MMIO'],
    when: (ctx) => networkNics(ctx, true),
  },
  {
    set: ['LWIP', 'VIRTIO_NET', 'VIRTIO_PCI'],
    when: (ctx) => networkNics(ctx, false),
  },
  {
    // SR-IOV NICs: the stack, the 82576 PF that enables the VFs, and the VF driver.
    set: ['LWIP', 'IGB', 'IGBVF'],
    when: (ctx) => {
      const n = (ctx.spec?.network ?? []).filter((x) => x.model === 'igbvf').length;
      if (n === 0) return undefined;
      return {
        reason: `requested because network: has ${n} igbvf NIC${n > 1 ? 's' : ''}`,
        loc: ctx.spec?.locs.network,
      };
    },
  },
  {
    // NVMe disks: the driver (it depends on PCI, so on microvm the request is reported unmet; osvb run refuses).
    set: ['NVME'],
    when: (ctx) => {
      const disks = ctx.spec?.disks?.filter((d) => d.interface === 'nvme') ?? [];
      const first = disks[0];
      if (first === undefined) return undefined;
      const cli = first.loc?.file === '--disk';
      return {
        reason: `requested because ${cli ? 'osvb run --disk' : 'disks:'} has ${disks.length} nvme disk${disks.length > 1 ? 's' : ''}`,
        loc: cli ? undefined : (ctx.spec?.locs.disks ?? first.loc),
      };
    },
  },
  {
    // volumes: the 9p client and its virtio transport.
    set: ['VIRTIO_9P', 'VIRTIO_MMIO'],
    when: (ctx) => volumes9p(ctx, true),
  },
  {
    set: ['VIRTIO_9P', 'VIRTIO_PCI'],
    when: (ctx) => volumes9p(ctx, false),
  },
  {
    // A ZFS root: the reader and a disk driver for the pool (virtio-blk by
    // default; on PCI machines NVMe too, so osvb run --root-disk nvme works).
    set: ['ZFS', 'VIRTIO_BLK', 'VIRTIO_MMIO'],
    when: (ctx) => zfsRoot(ctx, true),
  },
  {
    set: ['ZFS', 'VIRTIO_BLK', 'VIRTIO_PCI', 'NVME'],
    when: (ctx) => zfsRoot(ctx, false),
  },
  {
    set: ['ZFS'],
    when: (ctx) => {
      const d = ctx.spec?.disks?.find((x) => x.format === 'zfs');
      return d ? { reason: 'requested because disks: has a zfs disk', loc: d.loc } : undefined;
    },
  },
  {
    set: ['SMP'],
    when: (ctx) => {
      const cpus = ctx.spec?.run.cpus ?? 1;
      const loc = ctx.spec?.locs['run.cpus'];
      return cpus > 1
        ? {
            reason: `requested because run.cpus is ${cpus}`,
            loc,
            unmet: `run.cpus is ${cpus}, but the kernel will use one CPU`,
          }
        : undefined;
    },
  },
];

/** "app.yaml line 12" for reasons; the location itself is kept separately. */
function lineOf(loc: SourceLocation): string {
  return loc.line === undefined ? loc.file : `${loc.file} line ${loc.line}`;
}

/**
 * All requests in order (profile, requirements, app.yaml). A later request for
 * a symbol overrides an earlier one; the earlier one keeps a pointer to it.
 */
export function collectRequests(
  spec: AppSpec | undefined,
  req: AppRequirements,
  profile: Profile,
): ConfigRequest[] {
  const out: ConfigRequest[] = [];
  for (const line of profile.lines) {
    out.push({
      symbol: line.symbol,
      value: line.value,
      origin: 'profile',
      reason: `requested by profile ${profile.name} (${lineOf(line.loc)})`,
      loc: line.loc,
    });
  }
  for (const rule of REQUIREMENT_RULES) {
    const why = rule.when({ spec, req });
    if (why === undefined) continue;
    for (const symbol of rule.set) {
      out.push({
        symbol,
        value: Y,
        origin: 'requirement',
        reason: why.reason,
        loc: why.loc,
        unmet: why.unmet,
      });
    }
  }
  for (const entry of spec?.kernel.config ?? []) {
    out.push({
      symbol: entry.symbol,
      value: entry.value,
      origin: 'app.yaml',
      reason: `requested by ${lineOf(entry.loc)}`,
      loc: entry.loc,
    });
  }
  const last = new Map<string, ConfigRequest>();
  for (const r of out) {
    const prev = last.get(r.symbol);
    if (prev !== undefined) prev.overriddenBy = r;
    last.set(r.symbol, r);
  }
  return out;
}

/** The requests that reach the resolver: the last one for each symbol. */
export function effectiveRequests(requests: readonly ConfigRequest[]): ConfigRequest[] {
  return requests.filter((r) => r.overriddenBy === undefined);
}

/** A Kconfig symbol type as the engine names it ('bool', 'tristate', 'int', 'hex', 'string'). */
export type SymbolTypeOf = (symbol: string) => string | undefined;

export interface RenderedDefconfig {
  text: string;
  /** The request behind each line of `text` (1-based line numbers). */
  lineRequest: Map<number, ConfigRequest>;
  /** Requests for symbols the tree does not define, with the reason. */
  unknown: { request: ConfigRequest; reason: string }[];
}

/**
 * Writes the effective requests as defconfig lines, typed by the symbols' types
 * in the tree. A value of the wrong type for its symbol is a ConfigError at the
 * place it was written.
 */
export function renderDefconfig(
  requests: readonly ConfigRequest[],
  typeOf: SymbolTypeOf,
  symbolNames: readonly string[],
): RenderedDefconfig {
  const lines: string[] = [];
  const lineRequest = new Map<number, ConfigRequest>();
  const unknown: RenderedDefconfig['unknown'] = [];
  for (const r of effectiveRequests(requests)) {
    const type = typeOf(r.symbol);
    if (type === undefined || type === 'unknown') {
      const near = closestSymbol(r.symbol, symbolNames);
      const what =
        r.symbol === r.symbol.toUpperCase()
          ? `${r.symbol} is not defined in the Kconfig tree`
          : `"${r.symbol}" is not a Kconfig symbol name (symbols are upper case)`;
      unknown.push({ request: r, reason: `${what}${near === undefined ? '' : ` (did you mean ${near}?)`}` });
      continue;
    }
    lines.push(defconfigLine(r, type));
    lineRequest.set(lines.length, r);
  }
  return { text: lines.map((l) => `${l}\n`).join(''), lineRequest, unknown };
}

function defconfigLine(r: ConfigRequest, type: string): string {
  const { text, kind } = r.value;
  const bad = (expected: string): never => {
    throw new ConfigError(
      `${r.symbol} is ${type === 'int' ? 'an' : 'a'} ${type} symbol; ${expected}, got ${JSON.stringify(text)}`,
      {
        loc: r.loc,
      },
    );
  };
  switch (type) {
    case 'bool':
    case 'tristate':
      if (kind !== 'tristate') bad(type === 'bool' ? 'use y or n' : 'use y, m or n');
      return text === 'n' ? `# CONFIG_${r.symbol} is not set` : `CONFIG_${r.symbol}=${text}`;
    case 'int':
      if (!/^-?[0-9]+$/.test(text)) bad('use a decimal integer');
      return `CONFIG_${r.symbol}=${text}`;
    case 'hex':
      if (!/^0[xX][0-9a-fA-F]+$/.test(text)) bad('use a hex number starting with 0x');
      return `CONFIG_${r.symbol}=${text}`;
    default:
      return `CONFIG_${r.symbol}="${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  }
}

/** Whether the value a symbol ended with is the one requested. */
export function honoured(value: ConfigValue, got: string | undefined, type: string): boolean {
  if (got === undefined) return false;
  switch (type) {
    case 'bool':
    case 'tristate':
      return got === value.text;
    case 'int':
      return /^-?[0-9]+$/.test(got) && BigInt(got) === BigInt(value.text);
    case 'hex': {
      const norm = (s: string): bigint => BigInt(/^0[xX]/.test(s) ? s : `0x${s}`);
      return /^(0[xX])?[0-9a-fA-F]+$/.test(got) && norm(got) === norm(value.text);
    }
    default:
      return got === value.text;
  }
}

/** "SMP=y", "LOG_LEVEL=7", 'HOSTNAME="osvb"' — a request as people read it. */
export function showRequest(r: { symbol: string; value: ConfigValue }): string {
  return r.value.kind === 'string'
    ? `${r.symbol}=${JSON.stringify(r.value.text)}`
    : `${r.symbol}=${r.value.text}`;
}
