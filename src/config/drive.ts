// QEMU -drive arguments for a disk: kept apart from disks.ts (which parses
// app.yaml and loads the YAML parser) so that osvb run's start-up does not pay
// for YAML it does not read.

import type { DiskSpec } from './disks.js';

/** The QEMU -drive id of the i-th disk. */
export function driveId(i: number): string {
  return `disk${i}`;
}

/** `-drive` for a disk (no device: the interface's driver adds that). QEMU
 * option values escape ',' by doubling it. */
export function driveArg(d: DiskSpec, i: number): string {
  const file = d.file.replaceAll(',', ',,');
  return `file=${file},if=none,id=${driveId(i)},format=${d.format === 'zfs' ? 'raw' : d.format}${d.readonly ? ',readonly=on' : ''}`;
}
