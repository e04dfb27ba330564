#include <selftest/selftest.h>
#include <arch/smp.h>
#include <lib/string.h>
#include <mm/page.h>
#include <sched/mutex.h>
#include <sched/thread.h>
#include <sched/wait.h>
#include <time/clock.h>

static int flags[8];

static void set_flag(void *arg)
{
	int i = (int)(uintptr_t)arg;
	flags[i] = i + 1;
}

SELFTEST(create_join, "sched.create_join")
{
	struct thread *t[8];

	memset(flags, 0, sizeof(flags));
	unsigned before = sched_nr_threads();
	for (int i = 0; i < 8; i++) {
		t[i] = thread_create("st-flag", set_flag, (void *)(uintptr_t)i);
		ST_ASSERT(t[i] != NULL);
	}
	ST_EXPECT_EQ(sched_nr_threads(), before + 8);
	for (int i = 0; i < 8; i++)
		thread_join(t[i]);
	for (int i = 0; i < 8; i++)
		ST_EXPECT_EQ(flags[i], i + 1);
	ST_EXPECT_EQ(sched_nr_threads(), before);
}

SELFTEST(sleep, "sched.sleep")
{
	uint64_t t0 = clock_monotonic_ns();
	thread_sleep_ns(10 * NSEC_PER_MSEC);
	uint64_t dt = clock_monotonic_ns() - t0;

	ST_EXPECT_GE(dt, 10 * NSEC_PER_MSEC);
	/* Generous: under emulation on a busy host the VM itself may be descheduled. */
	ST_EXPECT_LT(dt, 500 * NSEC_PER_MSEC);
}

static volatile bool stop;
static volatile uint64_t spins[2];

static void spinner(void *arg)
{
	int i = (int)(uintptr_t)arg;
	while (!stop)
		spins[i]++; /* never yields: only preemption lets the others run */
}

SELFTEST(preempt, "sched.preempt")
{
	uint64_t p0 = sched_preemptions();
	struct thread *a, *b;

	/* All three on this CPU (the spinners inherit the set): with more CPUs
	 * they would otherwise each get one and never need preempting. */
	thread_set_affinity(thread_current(), 1ull << this_cpu_id());

	stop = false;
	spins[0] = spins[1] = 0;
	a = thread_create("st-spin0", spinner, (void *)0);
	b = thread_create("st-spin1", spinner, (void *)1);
	ST_ASSERT(a && b);
	thread_sleep_ns(100 * NSEC_PER_MSEC); /* wakes up only through preemption too */
	stop = true;
	uint64_t s0 = spins[0], s1 = spins[1];
	thread_join(a);
	thread_join(b);
	thread_set_affinity(thread_current(), 0);
	ST_EXPECT(s0 > 0);
	ST_EXPECT(s1 > 0);
	/* At least spinner -> spinner and spinner -> this thread. */
	ST_EXPECT_GE(sched_preemptions() - p0, 2);
}

struct wq_test {
	struct wait_queue wq;
	volatile int ready;
	volatile int woke;
};

static void waiter_fn(void *arg)
{
	struct wq_test *w = arg;
	wait_event(&w->wq, w->ready);
	w->woke++;
}

SELFTEST(waitqueue, "sched.waitqueue")
{
	struct wq_test w = { .ready = 0, .woke = 0 };
	struct thread *t[3];

	wait_queue_init(&w.wq);
	for (int i = 0; i < 3; i++)
		t[i] = thread_create("st-wait", waiter_fn, &w);
	thread_sleep_ns(2 * NSEC_PER_MSEC);
	ST_EXPECT_EQ(w.woke, 0); /* all blocked */
	wake_up_all(&w.wq);      /* condition still false: they must go back to sleep */
	thread_sleep_ns(2 * NSEC_PER_MSEC);
	ST_EXPECT_EQ(w.woke, 0);
	w.ready = 1;
	wake_up_all(&w.wq);
	for (int i = 0; i < 3; i++)
		thread_join(t[i]);
	ST_EXPECT_EQ(w.woke, 3);

	/* A timeout with no wakeup returns false after the timeout. */
	uint64_t t0 = clock_monotonic_ns();
	bool ok = wait_event_timeout(&w.wq, w.ready == 2, 5 * NSEC_PER_MSEC);
	ST_EXPECT(!ok);
	ST_EXPECT_GE(clock_monotonic_ns() - t0, 5 * NSEC_PER_MSEC);
}

static struct mutex test_mutex = MUTEX_INIT(test_mutex);
static volatile int in_cs, violations, counter;

static void mutex_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		mutex_lock(&test_mutex);
		if (in_cs++)
			violations++;
		int c = counter;
		thread_yield(); /* invite others in while holding the lock */
		counter = c + 1;
		in_cs--;
		mutex_unlock(&test_mutex);
	}
}

SELFTEST(mutex, "sched.mutex")
{
	struct thread *t[4];

	in_cs = violations = counter = 0;
	for (int i = 0; i < 4; i++)
		t[i] = thread_create("st-mutex", mutex_worker, NULL);
	for (int i = 0; i < 4; i++)
		thread_join(t[i]);
	ST_EXPECT_EQ(violations, 0);
	ST_EXPECT_EQ(counter, 400);
	ST_EXPECT(mutex_trylock(&test_mutex));
	ST_EXPECT(mutex_held(&test_mutex));
	mutex_unlock(&test_mutex);
}

#define RING 4
static struct semaphore slots, items;
static int ring[RING], head, tail;

static void producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 200; i++) {
		sem_down(&slots);
		ring[head++ % RING] = i;
		sem_up(&items);
	}
}

SELFTEST(semaphore, "sched.semaphore")
{
	long sum = 0;

	sem_init(&slots, RING);
	sem_init(&items, 0);
	head = tail = 0;
	struct thread *p = thread_create("st-producer", producer, NULL);
	ST_ASSERT(p != NULL);
	for (int i = 0; i < 200; i++) {
		sem_down(&items);
		sum += ring[tail++ % RING];
		sem_up(&slots);
	}
	thread_join(p);
	ST_EXPECT_EQ(sum, 200 * 201 / 2);

	uint64_t t0 = clock_monotonic_ns();
	ST_EXPECT(!sem_down_timeout(&items, 5 * NSEC_PER_MSEC));
	ST_EXPECT_GE(clock_monotonic_ns() - t0, 5 * NSEC_PER_MSEC);
	ST_EXPECT(!sem_trydown(&items));
	sem_up(&items);
	ST_EXPECT(sem_trydown(&items));
}

static void nothing(void *arg)
{
	(void)arg;
}

SELFTEST(churn, "sched.churn")
{
	/* Threads (and their guarded stacks) are freed whether joined or detached. */
	unsigned before = sched_nr_threads();
	size_t free_before = page_free_count();

	for (int i = 0; i < 200; i++) {
		struct thread *t = thread_create("st-churn", nothing, NULL);
		ST_ASSERT(t != NULL);
		if (i & 1)
			thread_join(t);
		else
			thread_detach(t);
	}
	/* Let the detached ones run and be freed (they only need CPU time). */
	for (int i = 0; i < 1000 && sched_nr_threads() != before; i++)
		thread_sleep_ns(NSEC_PER_MSEC);
	ST_EXPECT_EQ(sched_nr_threads(), before);
	ST_EXPECT_GE(page_free_count() + 16, free_before);
}

/* Threads with FPU state keep their SSE registers across switches. */
static void fpu_worker(void *arg)
{
	uint64_t v = (uint64_t)(uintptr_t)arg, got;

	__asm__ __volatile__("movq %0, %%xmm5" : : "r"(v));
	for (int i = 0; i < 5; i++)
		thread_yield();
	__asm__ __volatile__("movq %%xmm5, %0" : "=r"(got));
	*(volatile uint64_t *)arg = got == v;
}

SELFTEST(fpu_switch, "sched.fpu_switch")
{
	static uint64_t slot[2] __aligned(16);
	struct thread *t[2];

	for (int i = 0; i < 2; i++) {
		slot[i] = (uint64_t)(uintptr_t)&slot[i];
		t[i] = thread_create_flags("st-fpu", fpu_worker, &slot[i], THREAD_FPU);
		ST_ASSERT(t[i] != NULL && t[i]->fpu_state != NULL);
	}
	for (int i = 0; i < 2; i++)
		thread_join(t[i]);
	ST_EXPECT_EQ(slot[0], 1);
	ST_EXPECT_EQ(slot[1], 1);
}
