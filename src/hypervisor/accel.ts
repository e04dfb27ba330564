// KVM when /dev/kvm can be opened read-write, TCG otherwise.

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';

export type Accel = 'kvm' | 'tcg';

export interface AccelChoice {
  accel: Accel;
  reason: string;
}

export async function chooseAccel(devKvm = '/dev/kvm'): Promise<AccelChoice> {
  try {
    await access(devKvm, constants.R_OK | constants.W_OK);
    return { accel: 'kvm', reason: `${devKvm} is usable` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `no ${devKvm}` : `${devKvm} not accessible (${code ?? 'error'})`;
    return { accel: 'tcg', reason: why };
  }
}
