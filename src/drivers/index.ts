// The host drivers every image gets. Later drivers (virtio-net, virtio-blk,
// 9p, NVMe) are added from the manifest's enabled modules.

import { serialConsole } from './console.js';
import { debugExit, exitRecord } from './exit.js';
import { igbNics } from './igb.js';
import { nvmeDisks } from './nvme.js';
import type { DriverContext, HostDriver } from './types.js';
import { virtio9p } from './virtio-9p.js';
import { virtioBlk } from './virtio-blk.js';
import { virtioNet } from './virtio-net.js';

export type { DriverContext, HostDriver } from './types.js';

export const BASE_DRIVERS: readonly HostDriver[] = [serialConsole, exitRecord, debugExit];

/** Drivers of devices the run asks for (each emits nothing when not asked). */
export const DEVICE_DRIVERS: readonly HostDriver[] = [virtioBlk, nvmeDisks, virtioNet, igbNics, virtio9p];

export function driverArgs(drivers: readonly HostDriver[], ctx: DriverContext): string[] {
  return drivers.flatMap((d) => d.qemuArgs(ctx));
}
