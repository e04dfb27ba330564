/* Mutexes and semaphores with direct hand-off: the releaser gives the lock
 * (or the count) to the first waiter, so waiters are served in FIFO order. */
#include <sched/mutex.h>
#include <sched/thread.h>
#include <lib/panic.h>
#include <time/clock.h>

struct lock_waiter {
	struct list node;
	struct thread *thread;
	bool granted;
};

void mutex_init(struct mutex *m)
{
	spin_init(&m->lock);
	m->owner = NULL;
	list_init(&m->waiters);
}

bool mutex_trylock(struct mutex *m)
{
	uint64_t f = spin_lock_irqsave(&m->lock);
	bool ok = !m->owner;
	if (ok)
		m->owner = thread_current();
	spin_unlock_irqrestore(&m->lock, f);
	return ok;
}

void mutex_lock(struct mutex *m)
{
	struct thread *self = thread_current();
	uint64_t f = spin_lock_irqsave(&m->lock);

	if (!m->owner) {
		m->owner = self;
		spin_unlock_irqrestore(&m->lock, f);
		return;
	}
	if (m->owner == self)
		panic("mutex_lock: %s already holds the mutex", self->name);
	struct lock_waiter w = { .thread = self };
	list_push_back(&m->waiters, &w.node);
	while (!w.granted) {
		self->state = THREAD_BLOCKED;
		spin_unlock(&m->lock);
		schedule();
		spin_lock(&m->lock);
	}
	spin_unlock_irqrestore(&m->lock, f);
}

void mutex_unlock(struct mutex *m)
{
	uint64_t f = spin_lock_irqsave(&m->lock);
	if (m->owner != thread_current())
		panic("mutex_unlock: %s does not hold the mutex", thread_current()->name);
	struct list *n = list_pop_front(&m->waiters);
	if (n) {
		struct lock_waiter *w = list_entry(n, struct lock_waiter, node);
		m->owner = w->thread;
		w->granted = true;
		thread_wake(w->thread);
	} else {
		m->owner = NULL;
	}
	spin_unlock_irqrestore(&m->lock, f);
}

bool mutex_held(struct mutex *m)
{
	return READ_ONCE(m->owner) == thread_current();
}

void sem_init(struct semaphore *s, long count)
{
	spin_init(&s->lock);
	s->count = count;
	list_init(&s->waiters);
}

bool sem_trydown(struct semaphore *s)
{
	uint64_t f = spin_lock_irqsave(&s->lock);
	bool ok = s->count > 0;
	if (ok)
		s->count--;
	spin_unlock_irqrestore(&s->lock, f);
	return ok;
}

bool sem_down_timeout(struct semaphore *s, uint64_t timeout_ns)
{
	struct thread *self = thread_current();
	uint64_t deadline = timeout_ns ? clock_monotonic_ns() + timeout_ns : 0;
	uint64_t f = spin_lock_irqsave(&s->lock);

	if (s->count > 0) {
		s->count--;
		spin_unlock_irqrestore(&s->lock, f);
		return true;
	}
	struct lock_waiter w = { .thread = self };
	list_push_back(&s->waiters, &w.node);
	while (!w.granted) {
		self->state = THREAD_BLOCKED;
		spin_unlock(&s->lock);
		bool in_time = wait_block(deadline);
		spin_lock(&s->lock);
		if (!in_time && !w.granted) {
			list_remove(&w.node);
			self->state = THREAD_RUNNABLE;
			break;
		}
	}
	spin_unlock_irqrestore(&s->lock, f);
	return w.granted;
}

void sem_down(struct semaphore *s)
{
	sem_down_timeout(s, 0);
}

void sem_up(struct semaphore *s)
{
	uint64_t f = spin_lock_irqsave(&s->lock);
	struct list *n = list_pop_front(&s->waiters);
	if (n) {
		struct lock_waiter *w = list_entry(n, struct lock_waiter, node);
		w->granted = true;
		thread_wake(w->thread);
	} else {
		s->count++;
	}
	spin_unlock_irqrestore(&s->lock, f);
}
