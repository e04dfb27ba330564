// Accelerator names and the precedence of the places that choose one. Kept
// apart from accel.ts so app.yaml parsing loads no process-spawning code.

import { RunError } from '../errors.js';

export type Accel = 'kvm' | 'tcg';
export type AccelMode = 'auto' | Accel;
export const ACCEL_MODES: readonly AccelMode[] = ['auto', 'kvm', 'tcg'];

export function isAccelMode(value: string): value is AccelMode {
  return (ACCEL_MODES as readonly string[]).includes(value);
}

/** --accel > OSVB_ACCEL > app.yaml run.accel > auto. */
export function accelMode(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  fromImage?: AccelMode,
): AccelMode {
  for (const [value, what] of [
    [flag, '--accel'],
    [env.OSVB_ACCEL, 'OSVB_ACCEL'],
  ] as const) {
    if (value === undefined || value === '') continue;
    if (!isAccelMode(value)) {
      throw new RunError(`${what} is "${value}"; expected one of ${ACCEL_MODES.join(', ')}`, { exitCode: 2 });
    }
    return value;
  }
  return fromImage ?? 'auto';
}
