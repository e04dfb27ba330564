// Detached instances (osvb run -d, ps, logs, stop, rm). Each instance is a
// directory under $XDG_RUNTIME_DIR/osvb/instances (else the cache dir):
// instance.json (what was started), console.log (the guest console), the COM2
// exit record and the QMP socket. QEMU runs in its own session, so it outlives
// the CLI; its state is read from the process table and the exit record every
// time, so a QEMU that died is reported as stopped, never as running.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { InputError, RunError } from '../errors.js';
import { writeFileAtomic } from '../kernel/atomic.js';
import { cacheRoot } from '../kernel/cache.js';
import { qemuArgv } from './qemu.js';
import type { PreparedRun } from './run.js';
import { parseExitRecord } from './status.js';

export interface InstanceInfo {
  name: string;
  /** The image's name and directory. */
  image: string;
  imageDir: string;
  pid: number;
  startedAt: string;
  machine: string;
  ports: string[];
  argv: string[];
}

export type InstanceState =
  | { state: 'running' }
  | { state: 'exited'; status: number }
  | { state: 'panicked' }
  | { state: 'stopped' };

export interface Instance extends InstanceInfo {
  dir: string;
  status: InstanceState;
  uptimeSeconds?: number;
}

export function instancesRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OSVB_INSTANCES_DIR) return env.OSVB_INSTANCES_DIR;
  const rt = env.XDG_RUNTIME_DIR;
  return rt?.startsWith('/') ? join(rt, 'osvb', 'instances') : join(cacheRoot(env), 'instances');
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function checkName(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new InputError(`instance name ${JSON.stringify(name)} must be letters, digits, . _ - (up to 63)`, {
      exitCode: 2,
    });
  }
}

const files = (dir: string) => ({
  info: join(dir, 'instance.json'),
  console: join(dir, 'console.log'),
  record: join(dir, 'exit-record'),
  qmp: join(dir, 'qmp.sock'),
});

/** Alive, and still the QEMU we started (not a recycled pid, not a zombie). */
function qemuAlive(pid: number, dir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!existsSync('/proc/self')) return true; // no procfs: kill(0) is all there is
  try {
    // A zombie's cmdline is empty; another program's does not name our directory.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

export async function readInstance(dir: string): Promise<Instance> {
  const f = files(dir);
  let info: InstanceInfo;
  try {
    info = JSON.parse(await readFile(f.info, 'utf8')) as InstanceInfo;
  } catch {
    throw new InputError('not an osvb instance (no readable instance.json)', { loc: { file: dir } });
  }
  let status: InstanceState;
  if (qemuAlive(info.pid, dir)) {
    status = { state: 'running' };
  } else {
    const rec = parseExitRecord(await readFile(f.record, 'latin1').catch(() => ''));
    status =
      rec.kind === 'exit'
        ? { state: 'exited', status: rec.status }
        : rec.kind === 'panic'
          ? { state: 'panicked' }
          : { state: 'stopped' };
  }
  const uptimeSeconds =
    status.state === 'running' ? Math.max(0, (Date.now() - Date.parse(info.startedAt)) / 1000) : undefined;
  return { ...info, dir, status, uptimeSeconds };
}

export async function findInstance(name: string, env: NodeJS.ProcessEnv = process.env): Promise<Instance> {
  checkName(name);
  const dir = join(instancesRoot(env), name);
  if (!existsSync(join(dir, 'instance.json'))) {
    throw new InputError(`no instance named ${name}`, { exitCode: 1, hint: 'osvb ps lists them' });
  }
  return readInstance(dir);
}

export async function listInstances(env: NodeJS.ProcessEnv = process.env): Promise<Instance[]> {
  const root = instancesRoot(env);
  let names: string[];
  try {
    names = (await readdir(root)).filter((n) => NAME_RE.test(n)).sort();
  } catch {
    return [];
  }
  const out: Instance[] = [];
  for (const n of names) {
    try {
      out.push(await readInstance(join(root, n)));
    } catch {
      // a half-created or foreign directory is not an instance
    }
  }
  return out;
}

/** Starts QEMU in the background for a prepared run; the console goes to console.log. */
export async function startDetached(
  prep: PreparedRun,
  opts: { name?: string; env?: NodeJS.ProcessEnv },
): Promise<Instance> {
  const env = opts.env ?? process.env;
  const name = opts.name ?? `${prep.manifest.name}-${randomBytes(3).toString('hex')}`;
  checkName(name);
  const root = instancesRoot(env);
  await mkdir(root, { recursive: true, mode: 0o700 });
  const dir = join(root, name);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const old = await readInstance(dir).catch(() => undefined);
    if (old?.status.state === 'running') {
      throw new RunError(`instance ${name} is already running`, {
        hint: `osvb stop ${name}, or pick another --name`,
      });
    }
    throw new RunError(`an instance named ${name} exists (${old?.status.state ?? 'unreadable'})`, {
      hint: `osvb rm ${name} first`,
    });
  }
  const f = files(dir);
  await writeFile(f.record, '', { mode: 0o600 });
  const argv = [
    ...qemuArgv({ ...prep.spec, exitRecordPath: f.record }),
    '-qmp',
    `unix:${f.qmp},server=on,wait=off`,
  ];
  const log = await open(f.console, 'a', 0o600);
  let pid: number | undefined;
  try {
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      cwd: dir,
    });
    pid = await new Promise<number>((res, rej) => {
      child.once('error', (e) => rej(new RunError(`cannot start ${argv[0]}: ${e.message}`)));
      child.once('spawn', () => res(child.pid!));
    });
    child.unref();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  } finally {
    await log.close();
  }
  const info: InstanceInfo = {
    name,
    image: prep.manifest.name,
    imageDir: prep.spec.kernelPath.replace(/\/[^/]+$/, ''),
    pid,
    startedAt: new Date().toISOString(),
    machine: prep.spec.machine,
    ports: [],
    argv,
  };
  await writeFileAtomic(f.info, `${JSON.stringify(info, null, 2)}\n`);
  return readInstance(dir);
}

/** Sends QMP commands in order; resolves when each got its answer (or the socket closed). */
export async function qmp(socket: string, commands: string[], timeoutMs = 3000): Promise<void> {
  await new Promise<void>((res, rej) => {
    const s = connect(socket);
    const timer = setTimeout(() => {
      s.destroy();
      rej(new RunError('QMP did not answer'));
    }, timeoutMs);
    let buf = '';
    let next = 0;
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        if (line.includes('"QMP"') || line.includes('"return"') || line.includes('"error"')) {
          if (next < commands.length) s.write(`{"execute":"${commands[next++]}"}\n`);
          else {
            clearTimeout(timer);
            s.end();
            res();
          }
        }
      }
    });
    s.on('error', (e) => {
      clearTimeout(timer);
      rej(new RunError(`QMP: ${e.message}`));
    });
    s.on('close', () => {
      clearTimeout(timer);
      res();
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitDead(inst: Instance, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!qemuAlive(inst.pid, inst.dir)) return true;
    await sleep(100);
  }
  return !qemuAlive(inst.pid, inst.dir);
}

/** ACPI power button through QMP; after `timeoutSeconds`, QMP quit, then SIGKILL. */
export async function stopInstance(
  inst: Instance,
  timeoutSeconds: number,
): Promise<'graceful' | 'forced' | 'not-running'> {
  if (!qemuAlive(inst.pid, inst.dir)) return 'not-running';
  const q = files(inst.dir).qmp;
  await qmp(q, ['qmp_capabilities', 'system_powerdown']).catch(() => undefined);
  if (await waitDead(inst, timeoutSeconds * 1000)) return 'graceful';
  await qmp(q, ['qmp_capabilities', 'quit']).catch(() => undefined);
  if (await waitDead(inst, 2000)) return 'forced';
  try {
    process.kill(inst.pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
  await waitDead(inst, 2000);
  return 'forced';
}

export async function removeInstance(inst: Instance, force: boolean): Promise<void> {
  if (qemuAlive(inst.pid, inst.dir)) {
    if (!force)
      throw new RunError(`instance ${inst.name} is running`, {
        hint: `osvb stop ${inst.name}, or osvb rm -f`,
      });
    await stopInstance(inst, 0);
  }
  await rm(inst.dir, { recursive: true, force: true });
}

export function consolePath(inst: Instance): string {
  return files(inst.dir).console;
}
