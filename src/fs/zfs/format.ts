// On-disk constants of the ZFS pool format (OpenZFS 2.x) used by the writer
// and its tests. Values follow the ZFS On-Disk Specification and OpenZFS's
// headers; names keep theirs so they can be looked up there.

export const SPA_MINBLOCKSHIFT = 9;
export const SPA_MINBLOCKSIZE = 512;
export const SPA_OLD_MAXBLOCKSIZE = 128 * 1024;
export const SPA_VERSION_FEATURES = 5000n;
export const ZPL_VERSION = 4n;
export const UBERBLOCK_MAGIC = 0x00bab10cn;

export const VDEV_LABEL_SIZE = 256 * 1024;
export const VDEV_PAD_SIZE = 8 * 1024;
export const VDEV_PHYS_OFFSET = 16 * 1024;
export const VDEV_PHYS_SIZE = 112 * 1024;
export const VDEV_UBERBLOCK_RING_OFFSET = 128 * 1024;
export const VDEV_UBERBLOCK_RING = 128 * 1024;
/** Two labels and the 3.5 MiB boot region precede the allocatable space. */
export const VDEV_LABEL_START_SIZE = 2 * VDEV_LABEL_SIZE + 3584 * 1024;
export const VDEV_LABEL_END_SIZE = 2 * VDEV_LABEL_SIZE;

export const DNODE_SIZE = 512;
export const DNODE_BLOCK_SHIFT = 14;
export const DN_MAX_INDBLKSHIFT = 17;
export const DN_OLD_MAX_BONUSLEN = 320;
export const BLKPTR_SIZE = 128;
export const OBJSET_PHYS_SIZE = 1024;
export const DNODE_FLAG_USED_BYTES = 1;

export enum Cksum {
  INHERIT = 0,
  OFF = 2,
  LABEL = 3,
  FLETCHER_4 = 7,
  SHA256 = 8,
}

export enum Comp {
  INHERIT = 0,
  OFF = 2,
  LZ4 = 15,
}

/** dmu_object_type_t */
export enum Ot {
  NONE = 0,
  OBJECT_DIRECTORY = 1,
  OBJECT_ARRAY = 2,
  PACKED_NVLIST = 3,
  PACKED_NVLIST_SIZE = 4,
  BPOBJ = 5,
  BPOBJ_HDR = 6,
  SPACE_MAP_HEADER = 7,
  SPACE_MAP = 8,
  DNODE = 10,
  OBJSET = 11,
  DSL_DIR = 12,
  DSL_DIR_CHILD_MAP = 13,
  DSL_DS_SNAP_MAP = 14,
  DSL_PROPS = 15,
  DSL_DATASET = 16,
  ZNODE = 17,
  PLAIN_FILE_CONTENTS = 19,
  DIRECTORY_CONTENTS = 20,
  MASTER_NODE = 21,
  UNLINKED_SET = 22,
  ZAP_OTHER = 27,
  NEXT_CLONES = 37,
  DEADLIST = 50,
  DEADLIST_HDR = 51,
  DSL_CLONES = 52,
  SA = 44,
  SA_MASTER_NODE = 45,
  SA_ATTR_REGISTRATION = 46,
  SA_ATTR_LAYOUTS = 47,
}

export enum Ost {
  META = 1,
  ZFS = 2,
}

export const POOL_STATE_EXPORTED = 1n;

/** dsl_dir_phys_t: 256 bytes, all uint64 fields. */
export const DSL_DIR_PHYS_SIZE = 256;
export const DD_FLAG_USED_BREAKDOWN = 1n;
/** dsl_dataset_phys_t: 320 bytes. */
export const DSL_DATASET_PHYS_SIZE = 320;
export const DS_FLAG_UNIQUE_ACCURATE = 4n;
/** bpobj_phys_t up to bpo_num_subobjs (pools without the livelist feature). */
export const BPOBJ_SIZE_V1 = 48;
export const DSL_DEADLIST_PHYS_SIZE = 320;
/** space_map_phys_t without the histogram (pools without spacemap_histogram). */
export const SPACE_MAP_SIZE_V0 = 24;
/** znode_phys_t (ZPL before system attributes). */
export const ZNODE_PHYS_SIZE = 264;
/** One-word space map entries cover at most 2^15 sectors. */
export const SM_RUN_MAX = 1 << 15;

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
/** Directory entry type in the top 4 bits of a ZPL directory ZAP value. */
export const DT_DIR = 4n;
export const DT_REG = 8n;
export const DT_LNK = 10n;

export const ZFS_ACL_TRIVIAL = 0x4n;
export const ZFS_ARCHIVE = 0x0000000800000000n;
export const ZFS_AV_MODIFIED = 0x0000040000000000n;
export const ZFS_ACL_VERSION_FUID = 1;
