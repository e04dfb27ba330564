// Network interfaces an image runs with: app.yaml `network:`, `osvb run
// -p [HOSTIP:]HOSTPORT:GUESTPORT[/udp]` and `--net none|user|tap:NAME[,queues=N]`.
// The guest side (addresses) goes on the kernel command line as osvb.netN=;
// the host side (QEMU -netdev/-device) is src/drivers/virtio-net.ts.

import { isIPv4, isIPv6 } from 'node:net';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { RunError, type SourceLocation } from '../errors.js';
import type { AppSpec } from './appspec.js';
import type { AppRequirements } from './requirements.js';
import { closest } from './suggest.js';
import { describeNode, entries, expectScalarText, type YamlContext } from './yamlnode.js';

export type NicMode = 'user' | 'tap';
/** The guest's NIC: a virtio-net device, or an SR-IOV VF of an emulated 82576 (igb PF + igbvf). */
export type NicModel = 'virtio' | 'igbvf';
export const NIC_MODELS: readonly NicModel[] = ['virtio', 'igbvf'];
export const NIC_MODES: readonly (NicMode | 'none')[] = ['user', 'tap', 'none'];

export interface NicSpec {
  mode: NicMode;
  /** Host tap device (mode tap). */
  tap?: string;
  /** "ADDR/LEN" or "dhcp"; absent: unconfigured. */
  ipv4?: string;
  gateway?: string;
  /** "ADDR/LEN" or "auto" (SLAAC). */
  ipv6?: string;
  /** Queue pairs (tap only; the guest uses one per CPU). */
  queues: number;
  /** Absent: virtio. */
  model?: NicModel;
  loc?: SourceLocation;
}

export interface PortForward {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  guestPort: number;
}

/** QEMU user networking's fixed addresses: no DHCP wait on the boot path. */
export const USER_NET_DEFAULT: Omit<NicSpec, 'loc'> = {
  mode: 'user',
  ipv4: '10.0.2.15/24',
  gateway: '10.0.2.2',
  ipv6: 'auto',
  queues: 1,
};

/**
 * The default network: an app.yaml without a `network:` key gets one
 * user-mode NIC (USER_NET_DEFAULT: static addresses, no DHCP wait) when its
 * program opens sockets (requirements.sockets: libc's socket imported, or a
 * static or Go binary's own socket symbol), and none otherwise, so programs
 * that never open a socket pay neither the stack nor the NIC. `network: none`
 * and an explicit list always win.
 */
export function withDefaultNetwork(spec: AppSpec, req: AppRequirements): AppSpec {
  if (spec.locs.network !== undefined || req.sockets === undefined) return spec;
  return { ...spec, network: [{ ...USER_NET_DEFAULT }] };
}

const NIC_KEYS = ['mode', 'tap', 'ipv4', 'gateway', 'ipv6', 'queues', 'model'] as const;
const TAP_RE = /^[A-Za-z0-9_.-]{1,15}$/;

function checkPrefix(text: string, v6: boolean): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return false;
  const len = Number(m[2]);
  return v6 ? isIPv6(m[1]!) && len <= 128 : isIPv4(m[1]!) && len <= 32;
}

/** app.yaml `network:` — a list of NICs, or `none`. */
export function parseNetworkYaml(ctx: YamlContext, node: Node | null): NicSpec[] {
  if (isScalar(node) && node.value === 'none') return [];
  if (!isSeq(node)) {
    return ctx.fail(node, `network: expected a list of NICs or "none", got ${describeNode(node)}`);
  }
  const out: NicSpec[] = [];
  for (const [i, item] of node.items.entries()) {
    const where = `network[${i}]`;
    const itemNode = item as Node;
    if (!isMap(itemNode))
      ctx.fail(itemNode, `${where}: expected a map (mode, tap, ipv4, gateway, ipv6, queues)`);
    const raw: Partial<Record<(typeof NIC_KEYS)[number], { text: string; node: Node }>> = {};
    for (const e of entries(ctx, itemNode, where)) {
      if (!(NIC_KEYS as readonly string[]).includes(e.key)) {
        const near = closest(e.key, NIC_KEYS);
        ctx.fail(
          e.keyNode,
          `unknown key "${e.key}" in ${where}`,
          near ? `did you mean ${near}?` : `allowed: ${NIC_KEYS.join(', ')}`,
        );
      }
      const valueNode = (e.value ?? e.keyNode) as Node;
      raw[e.key as (typeof NIC_KEYS)[number]] = {
        text: expectScalarText(ctx, e.value, `${where}.${e.key}`),
        node: valueNode,
      };
    }
    const mode = raw.mode?.text ?? 'user';
    if (!(NIC_MODES as readonly string[]).includes(mode)) {
      ctx.fail(raw.mode!.node, `${where}.mode: "${mode}" is not one of ${NIC_MODES.join(', ')}`);
    }
    if (mode === 'none') continue;
    const isUser = mode === 'user';
    const nic: NicSpec = {
      mode: mode as NicMode,
      queues: 1,
      loc: ctx.loc(itemNode),
      ...(isUser && out.every((n) => n.mode !== 'user') && !raw.ipv4 ? USER_NET_DEFAULT : {}),
    };
    if (raw.tap) {
      if (mode !== 'tap') ctx.fail(raw.tap.node, `${where}.tap: only for mode: tap`);
      if (!TAP_RE.test(raw.tap.text))
        ctx.fail(raw.tap.node, `${where}.tap: "${raw.tap.text}" is not an interface name`);
      nic.tap = raw.tap.text;
    } else if (mode === 'tap') {
      ctx.fail(itemNode, `${where}: mode tap needs tap: NAME (the host's tap device)`);
    }
    if (raw.ipv4) {
      const t = raw.ipv4.text;
      if (t !== 'dhcp' && !checkPrefix(t, false)) {
        ctx.fail(raw.ipv4.node, `${where}.ipv4: "${t}" is not ADDR/LEN (e.g. 10.0.2.15/24) or dhcp`);
      }
      nic.ipv4 = t;
    }
    if (raw.gateway) {
      if (!isIPv4(raw.gateway.text))
        ctx.fail(raw.gateway.node, `${where}.gateway: "${raw.gateway.text}" is not an IPv4 address`);
      nic.gateway = raw.gateway.text;
    }
    if (raw.ipv6) {
      const t = raw.ipv6.text;
      if (t !== 'auto' && !checkPrefix(t, true)) {
        ctx.fail(raw.ipv6.node, `${where}.ipv6: "${t}" is not ADDR/LEN (e.g. fd00::5/64) or auto`);
      }
      nic.ipv6 = t;
    }
    if (raw.queues) {
      const q = Number(raw.queues.text);
      if (!Number.isInteger(q) || q < 1 || q > 16)
        ctx.fail(raw.queues.node, `${where}.queues: expected 1 to 16`);
      nic.queues = q;
    }
    if (raw.model) {
      const m = raw.model.text;
      if (!(NIC_MODELS as readonly string[]).includes(m))
        ctx.fail(raw.model.node, `${where}.model: "${m}" is not one of ${NIC_MODELS.join(', ')}`);
      if (m === 'igbvf' && nic.queues > 1)
        ctx.fail(raw.model.node, `${where}: model igbvf has one queue pair (queues: 1)`);
      nic.model = m as NicModel;
    }
    // VFs appear on the PCI bus only once the PF enabled them, so they are
    // numbered after every other NIC: keep app.yaml's order the guest's.
    if (nic.model !== 'igbvf' && out.some((n) => n.model === 'igbvf'))
      ctx.fail(
        itemNode,
        `${where}: list virtio NICs before igbvf ones (VFs are found last, so they are the last ethN)`,
      );
    out.push(nic);
  }
  return out;
}

/** `-p [HOSTIP:]HOSTPORT:GUESTPORT[/udp]`. */
export function parsePortOption(value: string): PortForward {
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3}):)?(\d{1,5}):(\d{1,5})(?:\/(tcp|udp))?$/.exec(value);
  const hostPort = Number(m?.[2]);
  const guestPort = Number(m?.[3]);
  if (
    !m ||
    (m[1] && !isIPv4(m[1])) ||
    !(hostPort > 0 && hostPort < 65536) ||
    !(guestPort > 0 && guestPort < 65536)
  ) {
    throw new RunError(`-p ${value}: expected [HOSTIP:]HOSTPORT:GUESTPORT[/udp], ports 1 to 65535`, {
      exitCode: 2,
    });
  }
  return {
    proto: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp',
    hostIp: m[1] ?? '127.0.0.1',
    hostPort,
    guestPort,
  };
}

/** `--net none|user|tap:NAME[,queues=N]`: what the first NIC attaches to on the host; undefined = none. */
export function parseNetOption(value: string): { mode: NicMode; tap?: string; queues?: number } | undefined {
  if (value === 'none') return undefined;
  if (value === 'user') return { mode: 'user' };
  const m = /^tap:([A-Za-z0-9_.-]{1,15})(?:,queues=(\d{1,2}))?$/.exec(value);
  if (!m || (m[2] !== undefined && !(Number(m[2]) >= 1 && Number(m[2]) <= 16))) {
    throw new RunError(`--net ${value}: expected none, user or tap:NAME[,queues=N] (N from 1 to 16)`, {
      exitCode: 2,
    });
  }
  return { mode: 'tap', tap: m[1], ...(m[2] ? { queues: Number(m[2]) } : {}) };
}

/** The kernel command line words for the guest side: osvb.netN=ip=...,gw=...,ip6=... */
export function nicCmdline(nics: readonly NicSpec[]): string[] {
  return nics
    .map((n, i) => {
      const parts = [
        n.ipv4 ? `ip=${n.ipv4}` : undefined,
        n.gateway ? `gw=${n.gateway}` : undefined,
        n.ipv6 ? `ip6=${n.ipv6}` : undefined,
      ].filter((p) => p !== undefined);
      return parts.length ? `osvb.net${i}=${parts.join(',')}` : '';
    })
    .filter((w) => w !== '');
}

/**
 * /etc/hosts and /etc/resolv.conf for an image with NICs, so getaddrinfo
 * resolves localhost and the image's own name without a DNS server, and
 * other names through QEMU user networking's resolver (10.0.2.3).
 */
export function networkEtcFiles(name: string, nics: readonly NicSpec[]): { path: string; text: string }[] {
  if (nics.length === 0) return [];
  const own = nics.find((n) => n.ipv4 && n.ipv4 !== 'dhcp')?.ipv4?.split('/')[0] ?? '127.0.1.1';
  const hosts = `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${own}\t${name}\n`;
  const servers = nics.some((n) => n.mode === 'user') ? ['10.0.2.3'] : [];
  const resolv = `${servers.map((s) => `nameserver ${s}\n`).join('')}options timeout:2 attempts:2\n`;
  return [
    { path: '/etc/hosts', text: hosts },
    { path: '/etc/resolv.conf', text: resolv },
  ];
}
