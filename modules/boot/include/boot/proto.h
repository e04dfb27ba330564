/* Boot protocol identifiers passed from the 32-bit entry stubs (asm-safe). */
#ifndef BOOT_PROTO_H
#define BOOT_PROTO_H

#define BOOT_PROTO_PVH 1        /* Xen PVH: ebx = struct hvm_start_info */
#define BOOT_PROTO_MULTIBOOT 2  /* Multiboot v1: ebx = struct multiboot_info */
#define BOOT_PROTO_LINUX 3      /* Linux/x86 boot protocol: esi = struct boot_params */

#define MULTIBOOT_HEADER_MAGIC 0x1badb002
#define MULTIBOOT_BOOT_MAGIC 0x2badb002

#endif
