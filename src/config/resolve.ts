// AppSpec + requirements + profile → a resolved kernel configuration. The
// requests become one defconfig (profile first, then what the app needs, then
// app.yaml's kernel.config so the user wins) that the Kconfig engine resolves;
// every request that did not end with the requested value comes back as unmet
// with the engine's reason.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, formatLocation, type SourceLocation } from '../errors.js';
import { type AppSpec, DEFAULT_PROFILE } from './appspec.js';
import {
  type ConfigText,
  type Diagnostic,
  type Kconfig,
  loadKconfig,
  type ResolvedConfig,
} from './kconfig/index.js';
import { loadProfile, type Profile } from './profile.js';
import {
  type ConfigRequest,
  collectRequests,
  effectiveRequests,
  honoured,
  renderDefconfig,
  showRequest,
} from './requests.js';
import { type AppRequirements, NO_REQUIREMENTS } from './requirements.js';

/** The root Kconfig, relative to the source tree. */
export const ROOT_KCONFIG = 'kconfig/Kconfig';

/** The osvb checkout (or installed package) that holds kconfig/ and modules/. */
export function osvbSrctree(): string {
  // This file is src/config/resolve.ts or dist/config/resolve.js: two levels down.
  return path.resolve(fileURLToPath(new URL('../../', import.meta.url)));
}

export interface UnmetRequest {
  request: ConfigRequest;
  /** The value the symbol ended with; undefined when the tree does not define it. */
  got: string | undefined;
  /** Why, from the engine: "depends on PCI (=n)". */
  reason: string;
}

export interface AppConfig {
  config: ResolvedConfig;
  profile: Profile;
  /** Every request in order, overridden ones included (see ConfigRequest.overriddenBy). */
  requests: ConfigRequest[];
  unmet: UnmetRequest[];
  /** The defconfig handed to the engine. */
  defconfig: ConfigText;
  /** Engine diagnostics; those about a defconfig line point at the line's origin instead. */
  diagnostics: Diagnostic[];
  /** QEMU -M machine type, from CONFIG_QEMU_MACHINE. */
  qemuMachine: string | undefined;
  /** Every symbol the tree defines. */
  symbolNames: string[];
}

export interface ResolveAppOptions {
  /** Undefined: the profile alone (`osvb config explain` without --config). */
  spec?: AppSpec;
  requirements?: AppRequirements;
  /** Overrides spec.kernel.profile. */
  profile?: string;
  /** Default: osvb's own tree. */
  srctree?: string;
  /** Root Kconfig relative to srctree; default kconfig/Kconfig. */
  kconfig?: string;
}

export async function loadTree(
  srctree: string,
  kconfig: string,
  diagnostics: Diagnostic[],
): Promise<Kconfig> {
  return loadKconfig({ srctree, kconfig, onDiagnostic: (d) => diagnostics.push(d) });
}

export async function resolveAppConfig(opts: ResolveAppOptions = {}): Promise<AppConfig> {
  const srctree = opts.srctree ?? osvbSrctree();
  const spec = opts.spec;
  const profileName = opts.profile ?? spec?.kernel.profile ?? DEFAULT_PROFILE;
  const profile = loadProfile(
    srctree,
    profileName,
    opts.profile === undefined ? spec?.locs['kernel.profile'] : undefined,
  );
  const requests = collectRequests(spec, opts.requirements ?? NO_REQUIREMENTS, profile);

  const rawDiagnostics: Diagnostic[] = [];
  const kc = await loadTree(srctree, opts.kconfig ?? ROOT_KCONFIG, rawDiagnostics);
  const names = kc.symbolNames();
  const known = new Set(names);
  // Symbol types do not depend on values, so any resolution tells them.
  let typing: ResolvedConfig | undefined;
  const typeOf = (symbol: string): string | undefined => {
    if (!known.has(symbol)) return undefined;
    typing ??= kc.resolve({ target: 'alldefconfig' });
    return typing.explain(symbol).type;
  };
  const rendered = renderDefconfig(requests, typeOf, names);
  const defconfig: ConfigText = {
    text: rendered.text,
    file: `${spec?.file ?? `profile ${profile.name}`} (generated defconfig)`,
  };
  const mark = rawDiagnostics.length;
  const config = kc.resolve({ target: 'defconfig', base: defconfig });

  // Point diagnostics about generated defconfig lines at what asked for them.
  const diagnostics = rawDiagnostics.map((d, i) => {
    if (i < mark || d.loc?.file !== defconfig.file || d.loc.line === undefined) return d;
    const r = rendered.lineRequest.get(d.loc.line);
    return r === undefined ? d : { ...d, loc: r.loc, message: `${d.message} (${r.reason})` };
  });

  const engineUnmet = new Map(config.unmet().map((u) => [u.symbol, u]));
  const unmet: UnmetRequest[] = [];
  const unknown = new Map(rendered.unknown.map((u) => [u.request, u.reason]));
  for (const r of effectiveRequests(requests)) {
    const unknownReason = unknown.get(r);
    if (unknownReason !== undefined) {
      unmet.push({ request: r, got: undefined, reason: unknownReason });
      continue;
    }
    const got = config.get(r.symbol);
    if (honoured(r.value, got, typeOf(r.symbol) ?? 'unknown')) continue;
    const reason = engineUnmet.get(r.symbol)?.reason ?? config.explain(r.symbol).reason;
    unmet.push({ request: r, got, reason });
  }
  return {
    config,
    profile,
    requests,
    unmet,
    defconfig,
    diagnostics,
    qemuMachine: config.get('QEMU_MACHINE'),
    symbolNames: names,
  };
}

/** One line for an unmet request: "app.yaml:12:5: SMP=y requested, got n: depends on X86_APIC (=n)". */
export function formatUnmet(u: UnmetRequest): string {
  const r = u.request;
  const where = r.loc === undefined ? '' : `${formatLocation(r.loc)}: `;
  const got = u.got === undefined ? 'no such symbol' : `got ${u.got === '' ? '""' : u.got}`;
  // The engine's reason starts with the value ("n because it depends on …").
  const why = u.reason.replace(/^\S+ because /, '');
  if (r.unmet !== undefined) {
    const detail =
      u.got === undefined
        ? `no ${r.symbol} support in this kernel yet`
        : `${r.symbol} cannot be enabled: ${why}`;
    return `${where}${r.unmet} (${detail})`;
  }
  const origin = r.origin === 'app.yaml' ? '' : ` (${r.reason})`;
  return `${where}${showRequest(r)} requested, ${got}: ${why}${origin}`;
}

/**
 * Requirement requests that app.yaml replaced with another value: the user wins,
 * but the application may not run, so say so.
 */
export function overriddenRequirements(cfg: Pick<AppConfig, 'requests'>): string[] {
  return cfg.requests
    .filter((r) => r.origin === 'requirement' && r.overriddenBy?.origin === 'app.yaml')
    .filter((r) => r.overriddenBy?.value.text !== r.value.text)
    .map((r) => {
      const by = r.overriddenBy as ConfigRequest;
      const where = by.loc === undefined ? '' : `${formatLocation(by.loc)}: `;
      // Said in app.yaml's terms when the request has them (run.cpus: what the program gets).
      if (r.unmet !== undefined) return `${where}${r.unmet} (kernel.config sets ${showRequest(by)})`;
      return `${where}${showRequest(by)} overrides ${showRequest(r)}, which was ${r.reason}`;
    });
}

/**
 * The error `osvb build` raises when app.yaml asked for something the resolver
 * could not give: one line per unmet symbol, each naming its app.yaml line.
 */
export function unmetUserRequestsError(cfg: Pick<AppConfig, 'unmet'>): ConfigError | undefined {
  const user = cfg.unmet.filter((u) => u.request.origin === 'app.yaml');
  const first = user[0];
  if (first === undefined) return undefined;
  const rest = user.slice(1).map((u) => `\nosvb: ${formatUnmet(u)}`);
  const firstLoc: SourceLocation | undefined = first.request.loc;
  const firstLine = formatUnmet({ ...first, request: { ...first.request, loc: undefined } });
  return new ConfigError(`${firstLine}${rest.join('')}`, { loc: firstLoc });
}
