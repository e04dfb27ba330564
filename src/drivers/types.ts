// The host side of a kernel driver: which QEMU devices (and host resources) the
// guest driver needs. Each driver file contributes argv fragments; the QEMU
// launcher only concatenates them.

import type { DiskSpec } from '../config/disks.js';
import type { VolumeSpec } from '../config/volumes.js';
import type { Machine } from '../kernel/manifest.js';

export interface DriverContext {
  machine: Machine;
  /** Host file that receives the guest's COM2 exit record. */
  exitRecordPath: string;
  /** Disks to attach (app.yaml disks:, osvb run --disk), in order. */
  disks?: readonly DiskSpec[];
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
