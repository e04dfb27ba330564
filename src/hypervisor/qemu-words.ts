// QEMU's own words for what went wrong, from its stderr.

/** The first line QEMU wrote, plus the "emulation failure" line of a KVM internal error. */
export function qemuComplaint(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const first = lines[0] ?? '';
  const emu = lines.find((l) => /emulation failure/i.test(l));
  return emu && emu !== first ? `${first}: ${emu}` : first;
}
