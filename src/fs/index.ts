// Public surface of the rootfs stage (src/fs). Pipeline use:
//   const rootfs = await collectRootfs({ runtime, exec, script, files });
//   await writeCpioArchive(rootfs.entries, `${imageDir}/rootfs.cpio`);
// rootfs.command is what the kernel executes (app.args follow it);
// rootfs.requirements feeds the Kconfig resolution.

export {
  type ArchiveOptions,
  type ArchiveResult,
  type CpioMember,
  parseCpio,
  writeCpioArchive,
} from './archive.js';
export {
  type Closure,
  type ClosureLibrary,
  type ClosureOptions,
  type ClosureRoot,
  type ElfObject,
  type FoundVia,
  GLIBC_DEFAULT_DIRS,
  type LoaderFile,
  type LoaderFlavor,
  MUSL_DEFAULT_PATH,
  resolveClosure,
} from './closure.js';
export {
  type ElfDynamic,
  ElfIncompatibleError,
  type ElfInfo,
  executableKind,
  type GoBuildInfo,
  parseElf,
  readElf,
  requirementsOf,
} from './elf.js';
export { type InspectInput, inspectApp } from './inspect.js';
export {
  buildLdSoCache,
  type LdCache,
  type LdCacheEntry,
  parseLdSoCache,
  readLdSoCache,
  readLdSoConf,
} from './ldcache.js';
export { DEFAULT_PYTHON, findPython, type PythonInstall, type StdlibResult } from './python.js';
export {
  type CollectOptions,
  collectRootfs,
  type Rootfs,
  type RootfsInput,
  type RootfsStats,
  type Runtime,
  type UserFile,
} from './rootfs.js';
export type { ContentPatch, RootfsDir, RootfsEntry, RootfsFile, RootfsSymlink } from './tree.js';
