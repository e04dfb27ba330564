// The GRUB configuration on an osvb disk: the early config built into GRUB's
// image finds the FAT partition by its serial, then /osvb/grub.cfg loads the
// kernel through Multiboot with the image's command line and the root
// filesystem as a module.

import { BuildError } from '../errors.js';

/** The kernel's own command-line words: blank-separated, double quotes group and are removed. */
export function kernelWords(cmdline: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quoted = false;
  let inWord = false;
  for (const c of cmdline) {
    if (!quoted && (c === ' ' || c === '\t' || c === '\n')) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else if (c === '"') {
      quoted = !quoted;
      inWord = true;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * The command line as GRUB script words. GRUB passes each word on, wrapping one
 * that holds a blank in double quotes (which the kernel removes again) and
 * escaping `\` `'` `"` with a backslash (which the kernel would keep): a word
 * with one of those cannot survive the trip, so it is refused here.
 */
export function grubArgs(cmdline: string): string {
  return kernelWords(cmdline)
    .map((w) => {
      if (/[\\'"]/.test(w)) {
        throw new BuildError(`kernel command line word ${JSON.stringify(w)} cannot be passed through GRUB`, {
          hint: "a disk image's command line may not contain a backslash or a single quote",
        });
      }
      return `'${w}'`;
    })
    .join(' ');
}

export const KERNEL_PATH = '/osvb/kernel.elf';
export const ROOTFS_PATH = '/osvb/rootfs.cpio';
export const CONFIG_PATH = '/osvb/grub.cfg';

/** Built into core.img / BOOTX64.EFI: find our partition (not just any with the file), read its config. */
export function earlyConfig(fsSerial: string): string {
  return `search --no-floppy --fs-uuid --set=root ${fsSerial}\nset prefix=($root)/osvb\nconfigfile ${CONFIG_PATH}\n`;
}

export function grubConfig(opts: { cmdline: string; rootfs: boolean; name: string }): string {
  const args = grubArgs(opts.cmdline);
  return [
    `# osvb disk image: ${opts.name}. Edit the multiboot line to change the kernel command line.`,
    'set timeout=0',
    `multiboot ${KERNEL_PATH}${args ? ` ${args}` : ''}`,
    ...(opts.rootfs ? [`module ${ROOTFS_PATH} rootfs`] : []),
    'boot',
    '',
  ].join('\n');
}
