/*
 * The driver against a real (emulated) controller: run by name
 * (osvb.selftest=nvme.hw) with QEMU's `-device nvme` on a disk file the host
 * filled with disk_byte(); tests/nvme checks on the host the bytes written
 * here. Explicit-only: an image without an NVMe disk has nothing to test.
 */
#include <selftest/selftest.h>
#include <console/printk.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <arch/smp.h>
#include <mm/page.h>
#include <sched/thread.h>
#include <time/clock.h>
#include <time/timer.h>
#include <block/block.h>
#include "../nvme_ctrl.h"

/* What the host wrote at byte offset i of the disk file (keep in sync with tests/nvme). */
static uint8_t disk_byte(uint64_t i)
{
	return (uint8_t)(i * 7 + (i >> 9));
}

/* What this test writes: byte j of write number k. */
static uint8_t pattern(unsigned k, size_t j)
{
	return (uint8_t)(j * 13 + k * 41 + (j >> 12));
}

SELFTEST_FLAGS(hw, "nvme.hw", SELFTEST_EXPLICIT)
{
	ST_ASSERT(nvme_nr_ctrls() >= 1);
	struct nvme_ctrl *c = nvme_ctrls[0];
	ST_ASSERT(c->nr_ns >= 1);
	struct nvme_ns *ns = c->ns[0];
	ST_ASSERT_EQ(ns->lba_shift, 9);
	uint8_t *buf = page_alloc(8, PAGE_ZERO);  /* 1 MiB */
	uint8_t *back = page_alloc(8, PAGE_ZERO);
	ST_ASSERT(buf && back);

	/* The host's bytes, 64 KiB from LBA 0. */
	ST_ASSERT_EQ(blk_read(ns->blk, 0, back, 128), 0);
	size_t bad = 0;
	for (size_t i = 0; i < 65536; i++)
		bad += back[i] != disk_byte(i);
	ST_EXPECT_EQ(bad, 0);

	/* 5 pages + 512 bytes from 512 bytes into a page: PRP1 at an offset, then a PRP list. */
	size_t len1 = 5 * 4096 + 512;
	for (size_t j = 0; j < len1; j++)
		buf[512 + j] = pattern(1, j);
	ST_EXPECT_EQ(blk_write(ns->blk, 2048, buf + 512, len1 / 512), 0);
	/* 1 KiB at byte 1536 of the disk: not page aligned in the file. */
	memset(buf, 0xa5, 1024);
	ST_EXPECT_EQ(blk_write(ns->blk, 3, buf, 2), 0);
	/* 1 MiB at 2 MiB: more than one command's transfer limit. */
	for (size_t j = 0; j < 1u << 20; j++)
		buf[j] = pattern(3, j);
	ST_EXPECT_EQ(blk_write(ns->blk, 4096, buf, 2048), 0);
	ST_EXPECT_EQ(blk_flush(ns->blk), 0);

	/* Read back the first write into a buffer at another offset. */
	memset(back, 0, 8 * 4096);
	ST_EXPECT_EQ(blk_read(ns->blk, 2048, back + 1024, len1 / 512), 0);
	bad = 0;
	for (size_t j = 0; j < len1; j++)
		bad += back[1024 + j] != pattern(1, j);
	ST_EXPECT_EQ(bad, 0);

	/* Past the end: refused before reaching the device. */
	ST_EXPECT_EQ(blk_read(ns->blk, ns->blocks, back, 1), -EINVAL);

	/* A controller reset (what a timeout does) and the device serves again. */
	uint64_t resets = c->resets;
	ST_EXPECT_EQ(nvme_ctrl_reset(c), 0);
	ST_EXPECT_EQ(c->resets, resets + 1);
	memset(back, 0, 1u << 20);
	ST_EXPECT_EQ(blk_read(ns->blk, 4096, back, 2048), 0);
	ST_EXPECT(!memcmp(back, buf, 1u << 20));

	/* A second namespace, when the host gave one: a marker at its LBA 0. */
	if (c->nr_ns >= 2) {
		memset(buf, 0, 512);
		memcpy(buf, "osvb nvme0n2", 12);
		ST_EXPECT_EQ(blk_write(c->ns[1]->blk, 0, buf, 1), 0);
	}
	printk(LOG_NOTICE, "nvme-hw: %u namespace(s), %llu blocks, %u I/O queue(s), dropped %llu\n",
	       c->nr_ns, (unsigned long long)ns->blocks, c->nr_ioq,
	       (unsigned long long)c->ioq[0].dropped);
	page_free(buf, 8);
	page_free(back, 8);
}

struct late {
	struct wait_queue wq;
	volatile int calls;
	volatile uint16_t status;
};

static void late_done(void *arg, uint16_t status, uint32_t result __unused)
{
	struct late *l = arg;
	l->status = status;
	l->calls++;
	wake_up_all(&l->wq);
}

/* A command whose deadline passes makes the watchdog reset the controller;
 * the command fails with a timeout instead of hanging, the device's own late
 * answer is dropped, and the controller serves I/O again afterwards. */
SELFTEST_FLAGS(hw_timeout, "nvme.hw_timeout", SELFTEST_EXPLICIT)
{
	ST_ASSERT(nvme_nr_ctrls() >= 1);
	struct nvme_ctrl *c = nvme_ctrls[0];
	struct nvme_queue *q = &c->ioq[0];
	uint8_t *buf = page_alloc(0, PAGE_ZERO);
	struct late l = { .calls = 0 };
	ST_ASSERT(buf);
	wait_queue_init(&l.wq);

	uint64_t resets = c->resets, timeouts = c->timeouts;
	struct nvme_sqe cmd = { .opcode = NVME_CMD_READ, .nsid = c->ns[0]->nsid, .cdw12 = 7 };
	struct nvme_sg sg = { virt_to_phys(buf), 4096 };
	/* Interrupts off: the watchdog sees the command before its completion does. */
	uint64_t f = irq_save();
	int r = nvme_queue_submit(q, &cmd, &sg, 1, late_done, &l, 1);
	unsigned expired = nvme_ctrl_check_timeouts(c, clock_monotonic_ns() + 2, NULL);
	irq_restore(f);
	ST_ASSERT_EQ(r, 0);
	ST_EXPECT_EQ(expired, 1);
	ST_EXPECT(wait_event_timeout(&l.wq, l.calls > 0, 20 * NSEC_PER_SEC));
	ST_EXPECT_EQ(l.calls, 1);
	ST_EXPECT_EQ(l.status, NVME_STATUS_TIMEOUT);
	ST_EXPECT(wait_event_timeout(&c->state_wait, c->resets == resets + 1 &&
						     c->state == NVME_CTRL_LIVE, 20 * NSEC_PER_SEC));
	ST_EXPECT_EQ(c->timeouts, timeouts + 1);
	ST_EXPECT_EQ(blk_read(c->ns[0]->blk, 0, buf, 8), 0);
	ST_EXPECT_EQ(buf[513], disk_byte(513));
	if (q->vector >= 0)
		ST_EXPECT(irq_count(q->vector) > 0); /* completions came by MSI-X */
	page_free(buf, 0);
}

/* A measurement, not a test: 4 KiB reads through the block layer from a
 * kernel thread (no system calls, no bounce buffers), with the interrupts
 * they took. On a loaded TCG host QEMU's own latency dominates and varies
 * several-fold between boots. */
SELFTEST_FLAGS(hw_speed, "nvme.hw_speed", SELFTEST_EXPLICIT)
{
	ST_ASSERT(nvme_nr_ctrls() >= 1);
	struct blk_dev *bd = nvme_ctrls[0]->ns[0]->blk;
	uint8_t *buf = page_alloc(0, 0);
	ST_ASSERT(buf);
	unsigned n = 2000;
	uint64_t ti = timer_interrupts(), ii = irq_count(nvme_ctrls[0]->ioq[0].vector);
	uint64_t t0 = clock_monotonic_ns();
	for (unsigned i = 0; i < n; i++)
		ST_ASSERT_EQ(blk_read(bd, (i * 8) % 8192, buf, 8), 0);
	uint64_t dt = clock_monotonic_ns() - t0;
	printk(LOG_NOTICE, "nvme-speed: %u reads of 4 KiB in %llu us: %llu per second (%llu timer, %llu nvme interrupts)\n", n,
	       (unsigned long long)(dt / 1000), (unsigned long long)(n * NSEC_PER_SEC / dt),
	       (unsigned long long)(timer_interrupts() - ti),
	       (unsigned long long)(irq_count(nvme_ctrls[0]->ioq[0].vector) - ii));
	page_free(buf, 0);
}

struct percpu_job {
	struct blk_dev *bd;
	unsigned cpu;
	int err;
};

static void percpu_writer(void *arg)
{
	struct percpu_job *j = arg;
	/* The creator pins this thread only after it may have started elsewhere:
	 * pin again and wait to be moved, so every request goes to this CPU's queue. */
	thread_set_affinity(thread_current(), 1ull << j->cpu);
	while (this_cpu_id() != j->cpu)
		thread_yield();
	uint8_t *buf = page_alloc(6, 0); /* 256 KiB */

	if (!buf) {
		j->err = -ENOMEM;
		return;
	}
	for (size_t k = 0; k < (256u << 10); k++)
		buf[k] = pattern(20 + j->cpu, k);
	/* 64 KiB requests: several commands, all on this CPU's queue. */
	for (unsigned part = 0; part < 4 && !j->err; part++)
		j->err = blk_write(j->bd, 8192 + j->cpu * 512 + part * 128, buf + part * 65536, 128);
	page_free(buf, 6);
}

/* One I/O queue pair per CPU: a thread pinned to each CPU writes its own
 * 256 KiB at 4 MiB + cpu * 256 KiB (checked by the host), and every queue's
 * completion count moves. */
SELFTEST_FLAGS(hw_percpu, "nvme.hw_percpu", SELFTEST_EXPLICIT)
{
	ST_ASSERT(nvme_nr_ctrls() >= 1);
	struct nvme_ctrl *c = nvme_ctrls[0];
	unsigned n = cpu_count();
	ST_ASSERT(n <= 8);
	ST_EXPECT_EQ(c->nr_ioq, n);
	ST_EXPECT_EQ(c->ns[0]->blk->nr_hw_queues, n);
	uint64_t before[NVME_MAX_IOQ];
	for (unsigned q = 0; q < c->nr_ioq; q++)
		before[q] = c->ioq[q].completed;
	struct percpu_job jobs[8];
	struct thread *t[8];
	for (unsigned i = 0; i < n; i++) {
		jobs[i] = (struct percpu_job){ .bd = c->ns[0]->blk, .cpu = i, .err = 0 };
		t[i] = thread_create("nvme-percpu", percpu_writer, &jobs[i]);
		ST_ASSERT(t[i] != NULL);
		thread_set_affinity(t[i], 1ull << i);
	}
	for (unsigned i = 0; i < n; i++) {
		thread_join(t[i]);
		ST_EXPECT_EQ(jobs[i].err, 0);
	}
	for (unsigned q = 0; q < c->nr_ioq; q++) {
		ST_EXPECT_GE(c->ioq[q].completed - before[q], 4);
		ST_EXPECT(c->ioq[q].vector >= 0 && irq_count(c->ioq[q].vector) > 0);
	}
	ST_EXPECT_EQ(blk_flush(c->ns[0]->blk), 0);
}
