/* 2-level event channel dispatch: see <xen/evtchn_2l.h>. */
#include <xen/evtchn_2l.h>

void xen_evtchn_2l_dispatch(struct shared_info *s, struct vcpu_info *v, xen_evtchn_handler_t fn, void *ctx,
			    struct xen_evtchn_stats *stats)
{
	struct xen_evtchn_stats st = { 0, 0, 0 };

	do {
		/* Clear the flag before taking the selector: an event Xen posts
		 * after the exchange sets both again, and we go around. */
		__atomic_store_n(&v->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		xen_ulong_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		st.rounds++;
		while (sel) {
			unsigned w = (unsigned)__builtin_ctzll(sel);
			sel &= sel - 1;
			st.words++;
			xen_ulong_t bits = __atomic_load_n(&s->evtchn_pending[w], __ATOMIC_ACQUIRE) &
					   ~__atomic_load_n(&s->evtchn_mask[w], __ATOMIC_RELAXED);
			while (bits) {
				unsigned b = (unsigned)__builtin_ctzll(bits);
				bits &= bits - 1;
				__atomic_fetch_and(&s->evtchn_pending[w], ~(1ull << b), __ATOMIC_SEQ_CST);
				st.ports++;
				fn(w * XEN_BITS_PER_WORD + b, ctx);
			}
		}
	} while (__atomic_load_n(&v->evtchn_upcall_pending, __ATOMIC_SEQ_CST) && st.rounds < 8);
	if (stats)
		*stats = st;
}

void xen_evtchn_2l_mask(struct shared_info *s, evtchn_port_t port)
{
	if (port < XEN_EVTCHN_2L_NR_PORTS)
		__atomic_fetch_or(&s->evtchn_mask[port / 64], 1ull << (port % 64), __ATOMIC_SEQ_CST);
}

bool xen_evtchn_2l_unmask(struct shared_info *s, evtchn_port_t port)
{
	if (port >= XEN_EVTCHN_2L_NR_PORTS)
		return false;
	__atomic_fetch_and(&s->evtchn_mask[port / 64], ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
	return __atomic_load_n(&s->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) & (1ull << (port % 64));
}

void xen_evtchn_2l_clear(struct shared_info *s, evtchn_port_t port)
{
	if (port < XEN_EVTCHN_2L_NR_PORTS)
		__atomic_fetch_and(&s->evtchn_pending[port / 64], ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
}
