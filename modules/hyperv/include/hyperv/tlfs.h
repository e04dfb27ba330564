/*
 * Hyper-V Top-Level Functional Specification (TLFS) definitions the guest
 * uses: CPUID leaves, synthetic MSRs, hypercall input/output words, the
 * SynIC message and event-flag pages and the reference TSC page. Written
 * from the TLFS; sizes are asserted so a layout slip fails the build.
 * Pure definitions: also compiled on the host by the protocol tests.
 */
#ifndef HYPERV_TLFS_H
#define HYPERV_TLFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HV_PAGE_SIZE 4096u
#define HV_PAGE_SHIFT 12

/* CPUID leaves (present when CPUID.1:ECX[31], the hypervisor bit, is set). */
#define HV_CPUID_VENDOR 0x40000000   /* EAX max leaf; EBX,ECX,EDX "Microsoft Hv" */
#define HV_CPUID_INTERFACE 0x40000001 /* EAX "Hv#1" */
#define HV_CPUID_FEATURES 0x40000003  /* EAX: partition privileges (MSR access) */
#define HV_CPUID_INTERFACE_HV1 0x31237648u /* "Hv#1" little-endian */

/* HV_CPUID_FEATURES.EAX: which synthetic MSRs this partition may use. */
#define HV_FEAT_TIME_REF_COUNT (1u << 1)
#define HV_FEAT_SYNIC (1u << 2)
#define HV_FEAT_HYPERCALL (1u << 5)
#define HV_FEAT_VP_INDEX (1u << 6)
#define HV_FEAT_REF_TSC (1u << 9)
#define HV_FEAT_FREQUENCY_MSRS (1u << 11)

/* Synthetic MSRs. */
#define HV_MSR_GUEST_OS_ID 0x40000000
#define HV_MSR_HYPERCALL 0x40000001
#define HV_MSR_VP_INDEX 0x40000002
#define HV_MSR_TIME_REF_COUNT 0x40000020
#define HV_MSR_REFERENCE_TSC 0x40000021
#define HV_MSR_TSC_FREQUENCY 0x40000022
#define HV_MSR_APIC_FREQUENCY 0x40000023
#define HV_MSR_SCONTROL 0x40000080
#define HV_MSR_SVERSION 0x40000081
#define HV_MSR_SIEFP 0x40000082
#define HV_MSR_SIMP 0x40000083
#define HV_MSR_EOM 0x40000084
#define HV_MSR_SINT0 0x40000090 /* SINT0..SINT15 */

/* Hypercall, SIMP, SIEFP, reference TSC MSRs: bit 0 enable, GPA page number from bit 12. */
#define HV_MSR_ENABLE 1ull
#define HV_MSR_PAGE_MASK (~0xfffull)
/* SINTx: vector in bits 7:0, masked bit 16, auto-EOI bit 17. */
#define HV_SINT_MASKED (1ull << 16)
#define HV_SINT_AUTO_EOI (1ull << 17)
#define HV_SCONTROL_ENABLE 1ull
#define HV_SINT_COUNT 16

/* Hypercall input value (TLFS "Hypercall Inputs"): call code 15:0, fast 16,
 * variable header size 26:17, rep count 43:32, rep start 59:48. */
#define HVCALL_POST_MESSAGE 0x005c
#define HVCALL_SIGNAL_EVENT 0x005d
#define HV_HYPERCALL_FAST (1ull << 16)
#define HV_HYPERCALL_REP_COUNT_SHIFT 32

/* Hypercall result codes (output bits 15:0). */
#define HV_STATUS_SUCCESS 0
#define HV_STATUS_INVALID_HYPERCALL_CODE 2
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3
#define HV_STATUS_INVALID_ALIGNMENT 4
#define HV_STATUS_INVALID_PARAMETER 5
#define HV_STATUS_ACCESS_DENIED 6
#define HV_STATUS_INSUFFICIENT_MEMORY 11
#define HV_STATUS_INVALID_PORT_ID 17
#define HV_STATUS_INVALID_CONNECTION_ID 18
#define HV_STATUS_INSUFFICIENT_BUFFERS 19

/* SynIC messages: one 256-byte slot per SINT in the message page. */
#define HV_MESSAGE_SIZE 256
#define HV_MESSAGE_PAYLOAD_BYTES 240
#define HV_MESSAGE_NONE 0u
#define HV_MESSAGE_FLAG_PENDING 1u

struct hv_message_header {
	uint32_t message_type;
	uint8_t payload_size;
	uint8_t message_flags;
	uint16_t reserved;
	uint64_t sender; /* port id / origination id */
} __attribute__((packed));

struct hv_message {
	struct hv_message_header header;
	uint8_t payload[HV_MESSAGE_PAYLOAD_BYTES];
} __attribute__((packed));

struct hv_message_page {
	struct hv_message sint[HV_SINT_COUNT];
};

/* Event flags: 2048 bits per SINT. */
#define HV_EVENT_FLAGS_BYTES 256
#define HV_EVENT_FLAGS_COUNT (HV_EVENT_FLAGS_BYTES * 8)
struct hv_event_flags {
	uint64_t bits[HV_EVENT_FLAGS_BYTES / 8];
};
struct hv_event_page {
	struct hv_event_flags sint[HV_SINT_COUNT];
};

/* HvPostMessage input page (8-byte aligned, not crossing a page). */
struct hv_post_message_input {
	uint32_t connection_id;
	uint32_t reserved;
	uint32_t message_type;
	uint32_t payload_size;
	uint8_t payload[HV_MESSAGE_PAYLOAD_BYTES];
} __attribute__((packed));

/* HvSignalEvent fast input (one register). */
struct hv_signal_event_input {
	uint32_t connection_id;
	uint16_t flag_number;
	uint16_t reserved;
} __attribute__((packed));

/* Reference TSC page: time in 100 ns units = ((tsc * scale) >> 64) + offset,
 * valid while the sequence is unchanged and not 0 (0: use the MSR). */
struct hv_ref_tsc_page {
	volatile uint32_t tsc_sequence;
	uint32_t reserved1;
	volatile uint64_t tsc_scale;
	volatile int64_t tsc_offset;
	uint64_t reserved2[509];
} __attribute__((packed));

_Static_assert(sizeof(struct hv_message_header) == 16, "hv_message_header");
_Static_assert(sizeof(struct hv_message) == HV_MESSAGE_SIZE, "hv_message");
_Static_assert(sizeof(struct hv_message_page) == HV_PAGE_SIZE, "message page");
_Static_assert(sizeof(struct hv_event_page) == HV_PAGE_SIZE, "event page");
_Static_assert(sizeof(struct hv_post_message_input) == 256, "post message input");
_Static_assert(sizeof(struct hv_signal_event_input) == 8, "signal event input");
_Static_assert(sizeof(struct hv_ref_tsc_page) == HV_PAGE_SIZE, "reference TSC page");
_Static_assert(offsetof(struct hv_ref_tsc_page, tsc_offset) == 16, "tsc_offset");

/* Pure helpers (tlfs.c). */

/* CPUID 0x40000000's EBX, ECX, EDX spell "Microsoft Hv". */
bool hv_vendor_is_microsoft(uint32_t ebx, uint32_t ecx, uint32_t edx);
/* The guest OS identity in the TLFS open-source format: bit 63 set, OS type
 * 62:56, OS id 55:48, version 47:16, build 15:0. */
uint64_t hv_guest_os_id(uint8_t os_type, uint8_t os_id, uint32_t version, uint16_t build);
/* A hypercall input value. */
uint64_t hv_hypercall_input(uint16_t code, bool fast, uint16_t rep_count);
/* Negative errno for a hypercall result (0 for success). */
int hv_status_errno(uint64_t result);
/* Fill an HvPostMessage input; -EMSGSIZE when len > 240. */
int hv_post_message_encode(struct hv_post_message_input *in, uint32_t conn_id, uint32_t type, const void *payload,
			   size_t len);
/* The fast HvSignalEvent parameter word. */
uint64_t hv_signal_event_param(uint32_t conn_id, uint16_t flag);
/* Check a SynIC message slot: 0 with the payload length, -EINVAL when the
 * hypervisor's payload_size exceeds 240. */
int hv_message_check(const struct hv_message *m, size_t *len);
/* Reference time in 100 ns units from a reference TSC page snapshot. */
uint64_t hv_ref_tsc_time(uint64_t tsc, uint64_t scale, int64_t offset);
/* The TSC rate a scale implies: 10^7 * 2^64 / scale, 0 for a bad scale. */
uint64_t hv_ref_tsc_hz(uint64_t scale);

#endif
