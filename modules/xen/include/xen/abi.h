/* The Xen guest ABI osvb uses, written from Xen's public headers
 * (xen/include/public: xen.h, event_channel.h, grant_table.h, memory.h,
 * sched.h, hvm/params.h, hvm/hvm_op.h, io/console.h). x86-64 layouts only;
 * offsets are checked below. Pure C: also compiled on the host for tests. */
#ifndef XEN_ABI_H
#define XEN_ABI_H

#include <stddef.h>
#include <stdint.h>

typedef uint16_t domid_t;
typedef uint32_t evtchn_port_t;
typedef uint32_t grant_ref_t;
typedef uint64_t xen_pfn_t;
typedef uint64_t xen_ulong_t;

#define DOMID_SELF 0x7ff0u

/* Hypercall numbers (xen.h). */
#define __HYPERVISOR_memory_op 12
#define __HYPERVISOR_multicall 13
#define __HYPERVISOR_xen_version 17
#define __HYPERVISOR_console_io 18
#define __HYPERVISOR_grant_table_op 20
#define __HYPERVISOR_vcpu_op 24
#define __HYPERVISOR_sched_op 29
#define __HYPERVISOR_event_channel_op 32
#define __HYPERVISOR_hvm_op 34

/* The hypercall page holds one 32-byte stub per hypercall. */
#define XEN_HYPERCALL_STUB_SIZE 32

/* xen.h: per-vCPU time record (the same layout as KVM's pvclock). */
struct vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad1[2];
};

struct arch_vcpu_info {
	xen_ulong_t cr2;
	xen_ulong_t pad;
};

struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	xen_ulong_t evtchn_pending_sel;
	struct arch_vcpu_info arch;
	struct vcpu_time_info time;
};

#define XEN_LEGACY_MAX_VCPUS 32
#define XEN_BITS_PER_WORD 64
/* 2-level event channels: a selector bit per word of 64 ports. */
#define XEN_EVTCHN_2L_NR_PORTS (XEN_BITS_PER_WORD * XEN_BITS_PER_WORD)

struct arch_shared_info {
	xen_ulong_t max_pfn;
	xen_pfn_t pfn_to_mfn_frame_list_list;
	xen_ulong_t nmi_reason;
	uint64_t pad[32];
};

struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	xen_ulong_t evtchn_pending[XEN_BITS_PER_WORD];
	xen_ulong_t evtchn_mask[XEN_BITS_PER_WORD];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	struct arch_shared_info arch;
};

/* xen.h: one call of a __HYPERVISOR_multicall batch. */
struct multicall_entry {
	xen_ulong_t op;
	xen_ulong_t result;
	xen_ulong_t args[6];
};

/* memory.h */
#define XENMEM_add_to_physmap 7
#define XENMEM_memory_map 9
#define XENMAPSPACE_shared_info 0
#define XENMAPSPACE_grant_table 1
struct xen_add_to_physmap {
	domid_t domid;
	uint16_t size;
	uint32_t space;
	xen_ulong_t idx;
	xen_pfn_t gpfn;
};

/* sched.h */
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_shutdown 2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_reboot 1
#define SHUTDOWN_crash 3
struct sched_shutdown {
	uint32_t reason;
};

/* hvm/hvm_op.h, hvm/params.h */
#define HVMOP_set_param 0
#define HVMOP_get_param 1
#define HVM_PARAM_CALLBACK_IRQ 0
#define HVM_PARAM_STORE_PFN 1
#define HVM_PARAM_STORE_EVTCHN 2
#define HVM_PARAM_CONSOLE_PFN 17
#define HVM_PARAM_CONSOLE_EVTCHN 18
/* CALLBACK_IRQ value: type in bits 63:56; type 2 = an IDT vector in bits 7:0. */
#define HVM_PARAM_CALLBACK_TYPE_VECTOR 2ull
struct xen_hvm_param {
	domid_t domid;
	uint32_t index;
	uint64_t value;
};

/* event_channel.h */
#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_unmask 9
struct evtchn_send {
	evtchn_port_t port;
};
struct evtchn_close {
	evtchn_port_t port;
};
struct evtchn_unmask {
	evtchn_port_t port;
};
struct evtchn_alloc_unbound {
	domid_t dom, remote_dom;
	evtchn_port_t port; /* out */
};
struct evtchn_bind_virq {
	uint32_t virq;
	uint32_t vcpu;
	evtchn_port_t port; /* out */
};

/* grant_table.h */
#define GNTTABOP_setup_table 2
#define GNTTABOP_query_size 6
#define GNTST_okay 0
#define GTF_invalid 0u
#define GTF_permit_access 1u
#define GTF_type_mask 3u
#define GTF_readonly (1u << 2)
#define GTF_reading (1u << 3)
#define GTF_writing (1u << 4)
#define GNTTAB_NR_RESERVED_ENTRIES 8 /* 0: console, 1: xenstore (the toolstack's) */
struct grant_entry_v1 {
	uint16_t flags;
	domid_t domid;
	uint32_t frame;
};
struct gnttab_setup_table {
	domid_t dom;
	uint32_t nr_frames;
	int16_t status;          /* out */
	uint64_t frame_list;     /* XEN_GUEST_HANDLE(xen_pfn_t): a guest virtual address */
};
struct gnttab_query_size {
	domid_t dom;
	uint32_t nr_frames;     /* out */
	uint32_t max_nr_frames; /* out */
	int16_t status;         /* out */
};

/* io/console.h */
typedef uint32_t XENCONS_RING_IDX;
struct xencons_interface {
	char in[1024];
	char out[2048];
	XENCONS_RING_IDX in_cons, in_prod;
	XENCONS_RING_IDX out_cons, out_prod;
};

/* Layout checks against the public headers' x86-64 ABI. */
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info");
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "vcpu_info.evtchn_pending_sel");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "vcpu_info.time");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 2048, "shared_info.evtchn_pending");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 2560, "shared_info.evtchn_mask");
_Static_assert(offsetof(struct shared_info, wc_version) == 3072, "shared_info.wc_version");
_Static_assert(offsetof(struct shared_info, arch) == 3088, "shared_info.arch");
_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry");
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "xen_add_to_physmap");
_Static_assert(offsetof(struct xen_add_to_physmap, idx) == 8, "xen_add_to_physmap.idx");
_Static_assert(sizeof(struct xen_hvm_param) == 16, "xen_hvm_param");
_Static_assert(offsetof(struct xen_hvm_param, index) == 4, "xen_hvm_param.index");
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "evtchn_alloc_unbound");
_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "evtchn_bind_virq");
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1");
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "gnttab_setup_table");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "gnttab_setup_table.frame_list");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size");
_Static_assert(offsetof(struct xencons_interface, in_cons) == 3072, "xencons_interface.in_cons");
_Static_assert(sizeof(struct xencons_interface) == 3088, "xencons_interface");

#endif
