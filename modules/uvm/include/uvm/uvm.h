/*
 * User address spaces. Each process has a struct mm: its own top-level page
 * table (the kernel's upper half shared), a sorted list of areas (VMAs)
 * filled on demand by the page-fault handler, and its program break.
 * Anonymous memory is zero-filled; file-backed areas are read from the file
 * at fault time (the page is the process's copy: there is no page cache, so
 * two processes that map one file each get their own pages). After fork the
 * pages of private areas are shared read-only and copied on the first write;
 * MAP_SHARED areas keep one set of pages for parent and child.
 *
 * The uvm_* calls without an mm work on the address space loaded on the
 * calling CPU: the calling thread's (uvm_mm_activate on every switch).
 */
#ifndef UVM_UVM_H
#define UVM_UVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <arch/trap.h>
#include <arch/memlayout.h>

struct file;
struct mm;

#define PROT_NONE 0
#define PROT_READ 1
#define PROT_WRITE 2
#define PROT_EXEC 4
#define PROT_GROWSDOWN 0x01000000

#define MAP_SHARED 0x01
#define MAP_PRIVATE 0x02
#define MAP_SHARED_VALIDATE 0x03
#define MAP_TYPE 0x0f
#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_GROWSDOWN 0x0100
#define MAP_DENYWRITE 0x0800
#define MAP_EXECUTABLE 0x1000
#define MAP_LOCKED 0x2000
#define MAP_NORESERVE 0x4000
#define MAP_POPULATE 0x8000
#define MAP_NONBLOCK 0x10000
#define MAP_STACK 0x20000
#define MAP_HUGETLB 0x40000
#define MAP_FIXED_NOREPLACE 0x100000

#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define MREMAP_DONTUNMAP 4

/* Layout: fixed, no randomisation (reproducible runs). */
#define USER_STACK_TOP 0x00007ffffffff000ul
#define USER_STACK_SIZE (8ul << 20)
#define USER_MMAP_TOP 0x00007ff000000000ul
#define USER_MMAP_BOTTOM 0x0000000000010000ul  /* like vm.mmap_min_addr */
#define USER_PIE_BASE 0x0000555555554000ul

/* Map len bytes. file NULL: anonymous. Without MAP_FIXED addr is a hint.
 * file_limit: bytes of the area (from its start) that come from the file;
 * the rest reads as zeros (ELF .bss). name: "[stack]", "[heap]" or NULL.
 * Returns the address or a negative errno. */
long uvm_map(uintptr_t addr, size_t len, unsigned prot, unsigned flags, struct file *file, uint64_t off,
	     uint64_t file_limit, const char *name);
int uvm_unmap(uintptr_t addr, size_t len);
int uvm_protect(uintptr_t addr, size_t len, unsigned prot);
long uvm_remap(uintptr_t old, size_t oldlen, size_t newlen, unsigned flags, uintptr_t newaddr);
/* MADV_DONTNEED: drop the pages (anonymous areas read zeros again). */
int uvm_discard(uintptr_t addr, size_t len);
/* Fault in every page of [addr, addr+len) now (MAP_POPULATE, loader). */
int uvm_populate(uintptr_t addr, size_t len);

/* The program break. */
void uvm_brk_init(uintptr_t start);
uintptr_t uvm_brk(uintptr_t newbrk);

/* Is [addr, addr+len) entirely inside mapped areas? */
bool uvm_range_mapped(uintptr_t addr, size_t len);

/* An empty address space (one reference), or NULL. */
struct mm *uvm_mm_new(void);
/* A copy-on-write copy of the current one (fork); NULL with *err. */
struct mm *uvm_mm_fork(int *err);
void uvm_mm_get(struct mm *mm);
/* Drop a reference; the last frees pages, areas and page tables (after
 * making every CPU that still has it loaded switch to the kernel's). */
void uvm_mm_put(struct mm *mm);
/* Load mm on this CPU (interrupts off). NULL keeps the loaded one: kernel
 * threads run in whatever address space was there. */
void uvm_mm_activate(struct mm *mm);
struct mm *uvm_mm_current(void);
/* The physical address behind va when it is a present page of a MAP_SHARED
 * area (futexes there are keyed by it, so that processes meet). */
bool uvm_shared_phys(uintptr_t va, paddr_t *pa);

/* /proc/self/maps text into buf (kmalloc'd by the caller); returns the length. */
size_t uvm_format_maps(char *buf, size_t size);

/* Resolve a fault at addr (error code bits as the CPU gives them). true when
 * the page is now mapped; false when the access is invalid. */
bool uvm_handle_fault(uintptr_t addr, uint64_t error);

/* Called for a user-mode fault that uvm cannot resolve (the Linux layer turns
 * it into SIGSEGV/SIGBUS). Without a handler the fault is fatal. */
extern void (*uvm_user_fault_hook)(struct trap_frame *tf, uintptr_t addr, int si_code);
#define SEGV_MAPERR 1
#define SEGV_ACCERR 2

/* Statistics: pages of the current address space. */
size_t uvm_resident_pages(void);

#endif
