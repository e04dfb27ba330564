// The host side of a kernel driver: which QEMU devices (and host resources) the
// guest driver needs. Each driver file contributes argv fragments; the QEMU
// launcher only concatenates them.

import type { DiskSpec } from '../config/disks.js';
import type { NicSpec, PortForward } from '../config/network.js';
import type { VolumeSpec } from '../config/volumes.js';
import type { Machine } from '../kernel/manifest.js';
import type { ConsoleMode } from './console.js';

export interface DriverContext {
  machine: Machine;
  /** Host file that receives the guest's COM2 exit record. */
  exitRecordPath: string;
  /** relay: the console UARTs on sockets osvb reads (osvb run); stdio: on QEMU's stdio. */
  console?: ConsoleMode;
  /** Disks to attach (app.yaml disks:, osvb run --disk), in order. */
  disks?: readonly DiskSpec[];
  /** NICs (app.yaml network:, osvb run --net), eth0 first. */
  nics?: readonly NicSpec[];
  /** osvb run -p: forwarded to the first user-mode NIC. */
  ports?: readonly PortForward[];
  /** Host directories shared over 9p (app.yaml volumes:, osvb run -v), in order. */
  volumes?: readonly VolumeSpec[];
  /** Host directory served as the guest's root over 9p (rootfs: 9p). */
  root9p?: string;
}

export interface HostDriver {
  name: string;
  /** QEMU arguments for this device. */
  qemuArgs(ctx: DriverContext): string[];
}
