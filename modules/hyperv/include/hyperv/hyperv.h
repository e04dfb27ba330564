/*
 * Running under Hyper-V: detection (CPUID "Microsoft Hv"), the guest OS
 * identity and hypercall page, HvPostMessage / HvSignalEvent, and the
 * boot CPU's SynIC (message and event-flag pages, one interrupt vector for
 * the SINTs). The reference TSC page is a clock source of its own
 * (refclock.c). Definitions from the TLFS are in <hyperv/tlfs.h>.
 */
#ifndef HYPERV_HYPERV_H
#define HYPERV_HYPERV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <hyperv/tlfs.h>

/* Detect Hyper-V and, the first time, set the guest OS id and the
 * hypercall page. True when the hypercall interface is usable. Safe to call
 * from a clock source probe (before initcalls) and again later. */
bool hv_init(void);
bool hv_present(void);
/* HV_CPUID_FEATURES.EAX (0 when not on Hyper-V). */
uint32_t hv_features(void);

/* HvPostMessage to conn_id: 0, -EAGAIN (the host's queue is full: retry),
 * -EMSGSIZE, or another -errno. */
int hv_post_message(uint32_t conn_id, uint32_t type, const void *payload, size_t len);
/* HvSignalEvent (fast): 0 or -errno. */
int hv_signal_event(uint32_t conn_id, uint16_t flag);

/* SynIC on the boot CPU. A SINT handler runs in interrupt context when the
 * SINT's message slot holds a message or its event flags may have changed;
 * it reads hv_synic_message(sint) and calls hv_synic_message_done(sint) when
 * it has copied the message out, and tests-and-clears bits of
 * hv_synic_event_flags(sint). 0 or -errno (-ENODEV without a SynIC). */
int hv_synic_attach(unsigned sint, void (*fn)(void *arg), void *arg);
volatile struct hv_message *hv_synic_message(unsigned sint);
void hv_synic_message_done(unsigned sint);
volatile struct hv_event_flags *hv_synic_event_flags(unsigned sint);

#endif
