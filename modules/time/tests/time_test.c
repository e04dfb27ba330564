#include <selftest/selftest.h>
#include <arch/cpu.h>
#include <console/printk.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>
#include <time/timer.h>

SELFTEST(monotonic, "clock.monotonic")
{
	uint64_t prev = clock_monotonic_ns(), first = prev;

	for (int i = 0; i < 20000; i++) {
		uint64_t now = clock_monotonic_ns();
		if (now < prev) {
			ST_EXPECT(now >= prev);
			return;
		}
		prev = now;
	}
	ST_EXPECT(prev > first);
	ST_EXPECT(first < 3600 * NSEC_PER_SEC); /* counts from boot */
}

/* The calibrated clock against the PIT, an independent fixed-frequency
 * counter: 20 ms of PIT time must read as 20 ms on the clock, within 0.1%.
 * Best of five good samples (samples the host disturbed are skipped), so one
 * unlucky sample does not decide. */
SELFTEST(vs_pit, "clock.vs_pit")
{
	uint64_t best = ~0ull;
	int good = 0;

	for (int i = 0; i < 50 && good < 5; i++) {
		uint64_t pit_ns, dt;
		if (pit_compare(20, &pit_ns, &dt))
			continue;
		good++;
		uint64_t err = dt > pit_ns ? dt - pit_ns : pit_ns - dt;
		uint64_t ppm = err * 1000000 / pit_ns;
		if (ppm < best)
			best = ppm;
	}
	printk(LOG_INFO, "clock.vs_pit: %lu ppm (%d samples)\n", (unsigned long)best, good);
	ST_EXPECT_GE(good, 1);
	ST_EXPECT_LE(best, 1000); /* parts per million */
}

SELFTEST(realtime, "clock.realtime")
{
	/* QEMU's RTC starts at the host's time: after 2020-01-01, before 2100. */
	uint64_t s = clock_realtime_ns() / NSEC_PER_SEC;
	ST_EXPECT(s > 1577836800ull);
	ST_EXPECT(s < 4102444800ull);
}

struct fired {
	struct wait_queue wq;
	int count;
	uint64_t at[8];
	int order[8];
};

struct tslot {
	struct fired *f;
	int id;
};

static void on_fire_id(struct timer *t)
{
	struct tslot *s = t->data;
	s->f->at[s->f->count] = clock_monotonic_ns();
	s->f->order[s->f->count++] = s->id;
	wake_up_all(&s->f->wq);
}

SELFTEST(oneshot, "timer.oneshot")
{
	struct fired f = { .count = 0 };
	struct tslot slot = { &f, 0 };
	struct timer t;

	wait_queue_init(&f.wq);
	timer_init(&t, on_fire_id, &slot);
	uint64_t deadline = clock_monotonic_ns() + 5 * NSEC_PER_MSEC;
	timer_arm(&t, deadline);
	ST_ASSERT(wait_event_timeout(&f.wq, READ_ONCE(f.count) == 1, 500 * NSEC_PER_MSEC));
	ST_EXPECT_GE(f.at[0], deadline);
	ST_EXPECT(!t.armed);
	ST_EXPECT(!timer_cancel(&t));
}

SELFTEST(order, "timer.order")
{
	static const int ms[6] = { 9, 2, 14, 5, 1, 7 };
	struct fired f = { .count = 0 };
	struct tslot slots[6];
	struct timer t[6];
	wait_queue_init(&f.wq);
	/* Armed with interrupts off: on a busy host the vCPU can stall for more
	 * than a millisecond mid-loop, and an early timer would fire before a
	 * later-armed, earlier one exists. */
	uint64_t flags = irq_save();
	uint64_t now = clock_monotonic_ns();
	for (int i = 0; i < 6; i++) {
		slots[i] = (struct tslot){ &f, ms[i] };
		timer_init(&t[i], on_fire_id, &slots[i]);
		timer_arm(&t[i], now + ms[i] * NSEC_PER_MSEC);
	}
	irq_restore(flags);
	ST_ASSERT(wait_event_timeout(&f.wq, READ_ONCE(f.count) == 6, NSEC_PER_SEC));
	for (int i = 1; i < 6; i++) {
		ST_EXPECT(f.order[i - 1] < f.order[i]);
		ST_EXPECT(f.at[i - 1] <= f.at[i]);
	}
	for (int i = 0; i < 6; i++)
		ST_EXPECT_GE(f.at[i], now + f.order[i] * NSEC_PER_MSEC);
}

SELFTEST(cancel, "timer.cancel")
{
	struct fired f = { .count = 0 };
	struct tslot slot = { &f, 0 };
	struct timer t, rearm;

	wait_queue_init(&f.wq);
	/* Deadlines far enough out that host scheduling delays cannot matter. */
	timer_init(&t, on_fire_id, &slot);
	timer_arm(&t, clock_monotonic_ns() + 5 * NSEC_PER_SEC);
	ST_EXPECT(timer_cancel(&t));
	ST_EXPECT(!timer_cancel(&t));
	/* Re-arming replaces the deadline instead of adding a second expiry. */
	timer_init(&rearm, on_fire_id, &slot);
	timer_arm(&rearm, clock_monotonic_ns() + 5 * NSEC_PER_SEC);
	timer_arm(&rearm, clock_monotonic_ns() + 3 * NSEC_PER_MSEC);
	thread_sleep_ns(20 * NSEC_PER_MSEC);
	ST_EXPECT_EQ(f.count, 1);
	ST_EXPECT(!rearm.armed);
}

SELFTEST(tickless, "timer.tickless")
{
	/* With one thread sleeping and nothing else to do, a 30 ms sleep takes
	 * only a few timer interrupts (no periodic tick). */
	uint64_t before = timer_interrupts();
	thread_sleep_ns(30 * NSEC_PER_MSEC);
	ST_EXPECT_GE(timer_interrupts() - before, 1);
	ST_EXPECT_LE(timer_interrupts() - before, 3);
}
