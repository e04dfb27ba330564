/* VMBus in the kernel: the SynIC's SINT 2 interrupt copies the host's
 * messages out of their slot and collects the channels whose event flags
 * are set; the "vmbus" thread applies them (core.c) and runs the channel
 * callbacks, so drivers' callbacks run in thread context. At INIT_DEVICE
 * the init thread connects, waits for the offers and probes the
 * VMBUS_DRIVER entries, sleeping on the answers the vmbus thread delivers. */
#include <vmbus/vmbus.h>
#include <hyperv/hyperv.h>
#include <hypervisor/hypervisor.h>
#include <arch/memlayout.h>
#include <arch/spinlock.h>
#include <console/printk.h>
#include <init/initcall.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>

KTABLE_DEFINE(struct vmbus_driver, vmbus_driver);

#define MSGQ 32 /* messages the interrupt can hold for the thread */
#define TIMEOUT_MS 5000

static struct vmbus_conn conn;
static struct {
	uint8_t len;
	uint8_t data[HV_MESSAGE_PAYLOAD_BYTES];
} msgq[MSGQ];
static volatile unsigned msg_head, msg_tail; /* interrupt writes head, thread reads tail */
static uint64_t pending[VMBUS_MAX_RELID / 64];
static volatile bool events;
static uint64_t dropped_messages;
static spinlock_t pend_lock = SPINLOCK_INIT;
static struct wait_queue work_wq = WAIT_QUEUE_INIT(work_wq);
static struct wait_queue done_wq = WAIT_QUEUE_INIT(done_wq);

static void vmbus_interrupt(void *arg)
{
	(void)arg;
	volatile struct hv_message *m = hv_synic_message(VMBUS_MESSAGE_SINT);
	if (m->header.message_type != HV_MESSAGE_NONE) {
		size_t len;
		if (hv_message_check((const struct hv_message *)m, &len) == 0 && msg_head - msg_tail < MSGQ) {
			unsigned i = msg_head % MSGQ;
			memcpy(msgq[i].data, (const void *)m->payload, len);
			msgq[i].len = (uint8_t)len;
			__atomic_store_n(&msg_head, msg_head + 1, __ATOMIC_RELEASE);
		} else {
			dropped_messages++;
		}
		hv_synic_message_done(VMBUS_MESSAGE_SINT);
	}
	volatile struct hv_event_flags *ev = hv_synic_event_flags(VMBUS_MESSAGE_SINT);
	spin_lock(&pend_lock);
	for (unsigned w = 0; w < VMBUS_MAX_RELID / 64; w++) {
		if (ev->bits[w]) {
			pending[w] |= __atomic_exchange_n(&ev->bits[w], 0, __ATOMIC_ACQ_REL);
			events = true;
		}
	}
	spin_unlock(&pend_lock);
	wake_up_all(&work_wq);
}

static bool work_ready(void)
{
	return msg_head != __atomic_load_n(&msg_tail, __ATOMIC_ACQUIRE) || events;
}

static void vmbus_thread(void *arg)
{
	(void)arg;
	for (;;) {
		wait_event(&work_wq, work_ready());
		while (msg_tail != __atomic_load_n(&msg_head, __ATOMIC_ACQUIRE)) {
			unsigned i = msg_tail % MSGQ;
			if (vmbus_conn_message(&conn, msgq[i].data, msgq[i].len))
				printk(LOG_WARN, "vmbus: dropped a malformed or unexpected message (type %u, %u bytes)\n",
				       msgq[i].len >= 4 ? *(uint32_t *)msgq[i].data : 0, msgq[i].len);
			__atomic_store_n(&msg_tail, msg_tail + 1, __ATOMIC_RELEASE);
		}
		uint64_t f = spin_lock_irqsave(&pend_lock);
		uint64_t mine[VMBUS_MAX_RELID / 64];
		memcpy(mine, pending, sizeof(mine));
		memset(pending, 0, sizeof(pending));
		events = false;
		spin_unlock_irqrestore(&pend_lock, f);
		for (unsigned w = 0; w < VMBUS_MAX_RELID / 64; w++)
			for (uint64_t bits = mine[w]; bits; bits &= bits - 1)
				vmbus_conn_event(&conn, w * 64 + (unsigned)__builtin_ctzll(bits));
		wake_up_all(&done_wq);
	}
}

static int op_post(void *ctx, uint32_t conn_id, const void *msg, size_t len)
{
	(void)ctx;
	return hv_post_message(conn_id, VMBUS_POST_MESSAGE_TYPE, msg, len);
}

static void op_signal(void *ctx, uint32_t conn_id)
{
	(void)ctx;
	hv_signal_event(conn_id, 0);
}

static uint64_t op_phys(void *ctx, const void *va)
{
	(void)ctx;
	return virt_to_phys(va);
}

static void *op_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return page_alloc(page_order_for(bytes), PAGE_ZERO);
}

static void op_free(void *ctx, void *va, size_t bytes)
{
	(void)ctx;
	page_free(va, page_order_for(bytes));
}

static int op_wait(void *ctx, bool (*done)(void *), void *arg, unsigned timeout_ms)
{
	(void)ctx;
	return wait_event_timeout(&done_wq, done(arg), (uint64_t)timeout_ms * NSEC_PER_MSEC) ? 0 : -ETIMEDOUT;
}

static const struct vmbus_ops kernel_ops = {
	op_post, op_signal, op_phys, op_alloc, op_free, op_wait, NULL,
};

static void probe_channels(void)
{
	const struct vmbus_driver *drv;

	for (unsigned i = 0; i < conn.nchannels; i++) {
		struct vmbus_channel *ch = &conn.channels[i];
		ktable_foreach(drv, vmbus_driver) {
			if (memcmp(drv->type, ch->type, 16) != 0)
				continue;
			int r = drv->probe(ch);
			if (r)
				printk(LOG_WARN, "vmbus: %s on channel %u: error %d\n", drv->name, ch->relid, r);
			break;
		}
	}
}

static int vmbus_init(void)
{
	/* Xen's Viridian interface has no VMBus behind it: no 5 s wait for an answer. */
	if (!hypervisor_detected("hyperv") || hypervisor_detected("xen") || !hv_init())
		return 0;
	vmbus_conn_init(&conn, &kernel_ops);
	if (!thread_create("vmbus", vmbus_thread, NULL)) {
		printk(LOG_ERR, "vmbus: no thread\n");
		return 0;
	}
	int r = hv_synic_attach(VMBUS_MESSAGE_SINT, vmbus_interrupt, NULL);
	if (r) {
		printk(LOG_WARN, "vmbus: no SynIC (%d)\n", r);
		return 0;
	}
	r = vmbus_connect(&conn, TIMEOUT_MS);
	if (r) {
		printk(LOG_ERR, "vmbus: connecting failed (%d)\n", r);
		return 0;
	}
	printk(LOG_INFO, "vmbus: version %u.%u, %u channels\n", conn.version >> 16, conn.version & 0xffff,
	       conn.nchannels);
	probe_channels();
	return 0;
}
INITCALL(INIT_DEVICE, vmbus_init);
