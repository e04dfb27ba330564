import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration tests boot QEMU under TCG on 2 cores; keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 120_000,
    // Boots use TCG whatever the host's /dev/kvm can do; tests/run/accel.test.ts
    // covers the auto choice against a broken and an absent /dev/kvm.
    env: { OSVB_ACCEL: 'tcg' },
    hookTimeout: 300_000,
  },
});
