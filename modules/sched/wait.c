#include <sched/wait.h>
#include <sched/thread.h>

void wait_queue_init(struct wait_queue *wq)
{
	spin_init(&wq->lock);
	list_init(&wq->waiters);
}

bool wait_queue_empty(struct wait_queue *wq)
{
	return list_empty(&wq->waiters);
}

void wait_prepare(struct wait_queue *wq, struct waiter *w)
{
	uint64_t f = spin_lock_irqsave(&wq->lock);
	if (!w->queued) {
		w->thread = thread_current();
		w->queued = true;
		list_push_back(&wq->waiters, &w->node);
	}
	thread_current()->state = THREAD_BLOCKED;
	spin_unlock_irqrestore(&wq->lock, f);
}

void wait_finish(struct wait_queue *wq, struct waiter *w)
{
	uint64_t f = spin_lock_irqsave(&wq->lock);
	thread_current()->state = THREAD_RUNNABLE;
	if (w->queued) {
		list_remove(&w->node);
		w->queued = false;
	}
	spin_unlock_irqrestore(&wq->lock, f);
}

static void wake(struct wait_queue *wq, bool all)
{
	uint64_t f = spin_lock_irqsave(&wq->lock);
	struct list *n;
	while ((n = list_pop_front(&wq->waiters))) {
		struct waiter *w = list_entry(n, struct waiter, node);
		w->queued = false;
		thread_wake(w->thread);
		if (!all)
			break;
	}
	spin_unlock_irqrestore(&wq->lock, f);
}

void wake_up_one(struct wait_queue *wq)
{
	wake(wq, false);
}

void wake_up_all(struct wait_queue *wq)
{
	wake(wq, true);
}
