/* The boot CPU's synthetic interrupt controller (TLFS "SynIC"): a message
 * page (one 256-byte slot per SINT) and an event-flag page (2048 bits per
 * SINT), both guest pages the hypervisor writes, and one interrupt vector
 * every attached SINT is routed to. Channels are opened with target VP 0,
 * so the other CPUs need no SynIC. */
#include <hyperv/hyperv.h>
#include <arch/cpu.h>
#include <arch/memlayout.h>
#include <console/printk.h>
#include <irq/irq.h>
#include <lib/errno.h>
#include <mm/page.h>

static struct hv_message_page *msg_page;
static struct hv_event_page *event_page;
static int vector = -1;

static struct {
	void (*fn)(void *arg);
	void *arg;
} handlers[HV_SINT_COUNT];

static void synic_interrupt(void *unused)
{
	(void)unused;
	for (unsigned i = 0; i < HV_SINT_COUNT; i++)
		if (handlers[i].fn)
			handlers[i].fn(handlers[i].arg);
}

static int synic_enable(void)
{
	if (vector >= 0)
		return 0;
	if (!hv_init() || !(hv_features() & HV_FEAT_SYNIC))
		return -ENODEV;
	msg_page = page_alloc(0, PAGE_ZERO);
	event_page = page_alloc(0, PAGE_ZERO);
	if (!msg_page || !event_page)
		return -ENOMEM;
	int v = irq_alloc_vector(synic_interrupt, NULL);
	if (v < 0)
		return v;
	wrmsr(HV_MSR_SIMP, virt_to_phys(msg_page) | HV_MSR_ENABLE);
	wrmsr(HV_MSR_SIEFP, virt_to_phys(event_page) | HV_MSR_ENABLE);
	wrmsr(HV_MSR_SCONTROL, rdmsr(HV_MSR_SCONTROL) | HV_SCONTROL_ENABLE);
	vector = v;
	printk(LOG_INFO, "hyperv: SynIC on vector %d\n", v);
	return 0;
}

int hv_synic_attach(unsigned sint, void (*fn)(void *arg), void *arg)
{
	if (sint >= HV_SINT_COUNT)
		return -EINVAL;
	int r = synic_enable();
	if (r)
		return r;
	handlers[sint].arg = arg;
	handlers[sint].fn = fn;
	wrmsr(HV_MSR_SINT0 + sint, (uint64_t)vector); /* unmasked, EOI through the local APIC */
	return 0;
}

volatile struct hv_message *hv_synic_message(unsigned sint)
{
	return &msg_page->sint[sint];
}

/* Free the slot; when the hypervisor has another message queued for this
 * SINT (MessagePending), the end-of-message write makes it deliver it. */
void hv_synic_message_done(unsigned sint)
{
	volatile struct hv_message *m = &msg_page->sint[sint];
	m->header.message_type = HV_MESSAGE_NONE;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (m->header.message_flags & HV_MESSAGE_FLAG_PENDING)
		wrmsr(HV_MSR_EOM, 0);
}

volatile struct hv_event_flags *hv_synic_event_flags(unsigned sint)
{
	return &event_page->sint[sint];
}
