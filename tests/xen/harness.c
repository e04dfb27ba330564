/* Host harness for the Xen protocol code (pure C from modules/xen, xenstore,
 * boot, time): one command per stdin line, one answer per stdout line. Byte
 * strings travel as hex; the vectors come from tests/xen/protocol.test.ts, which lays
 * them out from Xen's public headers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <boot/pvh.h>
#include <time/pvclock.h>
#include <xen/evtchn_2l.h>
#include <xen/gnttab.h>
#include <xen/hcall_args.h>
#include <xen/ring.h>
#include <xenstore/xs_client.h>
#include <xenstore/xs_wire.h>

static size_t unhex(const char *h, void *out, size_t cap)
{
	size_t n = strlen(h) / 2;
	if (n > cap) {
		fprintf(stderr, "hex too long (%zu > %zu)\n", n, cap);
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		((unsigned char *)out)[i] = (unsigned char)v;
	}
	return n;
}

static void hex(const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", ((const unsigned char *)p)[i]);
	if (!n)
		printf("-");
}

static char *tok(void)
{
	char *t = strtok(NULL, " \n");
	if (!t) {
		fprintf(stderr, "missing argument\n");
		exit(2);
	}
	return t;
}
static unsigned long long num(void)
{
	return strtoull(tok(), NULL, 0);
}

/* evtchn: ports handled, in order; a port may raise another meanwhile. */
static struct shared_info *sh;
static long raise_from = -1, raise_to = -1;
static void handler(evtchn_port_t port, void *ctx)
{
	(void)ctx;
	printf("%u,", port);
	if ((long)port == raise_from) {
		/* What Xen does when it posts an event: pending, selector, flag. */
		__atomic_fetch_or(&sh->evtchn_pending[raise_to / 64], 1ull << (raise_to % 64), __ATOMIC_SEQ_CST);
		__atomic_fetch_or(&sh->vcpu_info[0].evtchn_pending_sel, 1ull << (raise_to / 64), __ATOMIC_SEQ_CST);
		sh->vcpu_info[0].evtchn_upcall_pending = 1;
		raise_from = -1;
	}
}

/* pvh: a fake guest-physical memory at BASE. */
static unsigned char mem[65536];
static size_t mem_len;
static uint64_t mem_base;
static const void *phys(void *ctx, uint64_t pa, uint64_t len)
{
	(void)ctx;
	if (pa < mem_base || len > mem_len || pa - mem_base > mem_len - len)
		return NULL;
	return mem + (pa - mem_base);
}


/* A simulated xenstored on the other end of the rings (xs_session): a few
 * keys, watches that fire once when set and on every write under their path,
 * answers as io/xs_wire.h says. It consumes requests only when notified. */
static struct xenstore_domain_interface store_page;
static struct {
	char path[64];
	char value[4096];
	size_t vlen;
} keys[16];
static unsigned nkeys;
static struct {
	char path[64], token[64];
} sw[8];
static unsigned nsw;
static unsigned char sreq[16 + 4096];
static size_t shave;
static unsigned notifies;

/* Replies wait here until the client makes room in the response ring. */
static unsigned char sout[65536];
static size_t sout_len, sout_sent;

static void store_flush(void)
{
	long k = xen_ring_put(store_page.rsp, XENSTORE_RING_SIZE, &store_page.rsp_prod, &store_page.rsp_cons,
			      sout + sout_sent, sout_len - sout_sent);
	if (k > 0)
		sout_sent += (size_t)k;
	if (sout_sent == sout_len)
		sout_len = sout_sent = 0;
}

static void store_reply(uint32_t type, uint32_t req, const void *payload, size_t len)
{
	struct xsd_sockmsg h = { type, req, 0, (uint32_t)len };
	if (sout_len + sizeof(h) + len > sizeof(sout)) {
		fprintf(stderr, "sim: output full\n");
		exit(3);
	}
	memcpy(sout + sout_len, &h, sizeof(h));
	memcpy(sout + sout_len + sizeof(h), payload, len);
	sout_len += sizeof(h) + len;
	store_flush();
}

static void store_event(const char *path, const char *token)
{
	char ev[160];
	size_t a = strlen(path) + 1, b = strlen(token) + 1;
	memcpy(ev, path, a);
	memcpy(ev + a, token, b);
	store_reply(XS_WATCH_EVENT, 0, ev, a + b);
}

static void store_handle(const struct xsd_sockmsg *h, const char *pl)
{
	const char *path = pl;
	size_t plen = strnlen(pl, h->len) + 1;
	switch (h->type) {
	case XS_READ:
		for (unsigned i = 0; i < nkeys; i++)
			if (!strcmp(keys[i].path, path)) {
				store_reply(XS_READ, h->req_id, keys[i].value, keys[i].vlen);
				return;
			}
		store_reply(XS_ERROR, h->req_id, "ENOENT", 7);
		return;
	case XS_WRITE: {
		unsigned i = 0;
		while (i < nkeys && strcmp(keys[i].path, path))
			i++;
		if (i == nkeys)
			nkeys++;
		snprintf(keys[i].path, sizeof(keys[i].path), "%s", path);
		keys[i].vlen = h->len - plen;
		memcpy(keys[i].value, pl + plen, keys[i].vlen);
		store_reply(XS_WRITE, h->req_id, "OK", 3);
		for (unsigned w = 0; w < nsw; w++)
			if (!strncmp(path, sw[w].path, strlen(sw[w].path)))
				store_event(path, sw[w].token);
		return;
	}
	case XS_DIRECTORY: {
		char out[1024];
		size_t n = 0, pl2 = strlen(path);
		for (unsigned i = 0; i < nkeys; i++)
			if (!strncmp(keys[i].path, path, pl2) && keys[i].path[pl2] == '/') {
				const char *c = keys[i].path + pl2 + 1;
				size_t cl = strcspn(c, "/");
				memcpy(out + n, c, cl);
				out[n + cl] = 0;
				n += cl + 1;
			}
		store_reply(XS_DIRECTORY, h->req_id, out, n);
		return;
	}
	case XS_WATCH:
		snprintf(sw[nsw].path, sizeof(sw[0].path), "%s", path);
		snprintf(sw[nsw].token, sizeof(sw[0].token), "%s", pl + plen);
		nsw++;
		store_reply(XS_WATCH, h->req_id, "OK", 3);
		store_event(path, pl + plen); /* fires once when set */
		return;
	case XS_UNWATCH:
		for (unsigned w = 0; w < nsw; w++)
			if (!strcmp(sw[w].path, path) && !strcmp(sw[w].token, pl + plen))
				sw[w] = sw[--nsw];
		store_reply(XS_UNWATCH, h->req_id, "OK", 3);
		return;
	default:
		store_reply(XS_ERROR, h->req_id, "EINVAL", 7);
	}
}

static void store_notify(void *ctx)
{
	(void)ctx;
	notifies++;
	store_flush();
	for (;;) {
		size_t want = 16;
		if (shave >= 16)
			want = 16 + ((struct xsd_sockmsg *)sreq)->len;
		if (shave == want && shave >= 16) {
			store_handle((struct xsd_sockmsg *)sreq, (char *)sreq + 16);
			shave = 0;
			continue;
		}
		long k = xen_ring_get(store_page.req, XENSTORE_RING_SIZE, &store_page.req_cons, &store_page.req_prod,
				      sreq + shave, want - shave);
		if (k <= 0)
			return;
		shave += (size_t)k;
	}
}

static int session_call(struct xs_client *c, uint32_t type, const char *const *parts, const size_t *lens, unsigned n)
{
	int r = xs_client_start(c, type, parts, lens, n);
	for (int spins = 0; !r && !xs_client_poll(c); spins++) {
		store_notify(NULL); /* the store runs between the client's polls */
		if (spins > 100)
			return -110;
	}
	return r ? r : xs_client_result(c);
}

int main(void)
{
	static char line[1 << 20];
	static unsigned char buf[65536], buf2[65536];

	while (fgets(line, sizeof(line), stdin)) {
		char *cmd = strtok(line, " \n");
		if (!cmd)
			continue;
		if (!strcmp(cmd, "ring_put")) {
			uint32_t size = (uint32_t)num();
			size_t rl = unhex(tok(), buf, sizeof(buf));
			uint32_t prod = (uint32_t)num(), cons = (uint32_t)num();
			size_t dl = unhex(tok(), buf2, sizeof(buf2));
			long n = xen_ring_put((char *)buf, size, &prod, &cons, buf2, dl);
			printf("%ld ", n);
			hex(buf, rl);
			printf(" %u", prod);
		} else if (!strcmp(cmd, "ring_get")) {
			uint32_t size = (uint32_t)num();
			unhex(tok(), buf, sizeof(buf));
			uint32_t cons = (uint32_t)num(), prod = (uint32_t)num();
			size_t len = num();
			long n = xen_ring_get((char *)buf, size, &cons, &prod, buf2, len);
			printf("%ld ", n);
			hex(buf2, n > 0 ? (size_t)n : 0);
			printf(" %u", cons);
		} else if (!strcmp(cmd, "xs_read") || !strcmp(cmd, "xs_dir")) {
			uint32_t req = (uint32_t)num();
			char *path = tok();
			long n = cmd[3] == 'r' ? xs_encode_read(buf, sizeof(buf), req, path)
					       : xs_encode_directory(buf, sizeof(buf), req, path);
			printf("%ld ", n);
			hex(buf, n > 0 ? (size_t)n : 0);
		} else if (!strcmp(cmd, "xs_write")) {
			uint32_t req = (uint32_t)num();
			char *path = tok();
			size_t vl = unhex(tok(), buf2, sizeof(buf2));
			long n = xs_encode_write(buf, sizeof(buf), req, path, buf2, vl);
			printf("%ld ", n);
			hex(buf, n > 0 ? (size_t)n : 0);
		} else if (!strcmp(cmd, "xs_watch")) {
			uint32_t req = (uint32_t)num(), type = (uint32_t)num();
			char *path = tok(), *token = tok();
			long n = xs_encode_watch(buf, sizeof(buf), req, type, path, token);
			printf("%ld ", n);
			hex(buf, n > 0 ? (size_t)n : 0);
		} else if (!strcmp(cmd, "xs_errno")) {
			size_t n = unhex(tok(), buf, sizeof(buf));
			printf("%d", xs_error_errno((char *)buf, n));
		} else if (!strcmp(cmd, "xs_split")) {
			size_t n = unhex(tok(), buf, sizeof(buf));
			const char *out[16];
			int c = xs_split((char *)buf, n, out, 16);
			printf("%d", c);
			for (int i = 0; i < c && i < 16; i++) {
				printf(" ");
				hex(out[i], strlen(out[i]));
			}
		} else if (!strcmp(cmd, "xs_rx")) {
			static struct xenstore_domain_interface intf;
			static struct xs_rx rx;
			memset(&intf, 0, sizeof(intf));
			unhex(tok(), &intf, sizeof(intf));
			rx.have = 0;
			int r;
			while ((r = xs_rx_pull(&rx, &intf)) == 1) {
				printf("msg %u %u %u ", rx.u.hdr.type, rx.u.hdr.req_id, rx.u.hdr.len);
				hex(rx.u.buf + 16, rx.u.hdr.len);
				printf(" ");
				rx.have = 0;
			}
			printf("end %d %u %zu", r, intf.rsp_cons, rx.have);
		} else if (!strcmp(cmd, "xs_session")) {
			static struct xs_client c;
			static char value[4096];
			memset(&store_page, 0, sizeof(store_page));
			nkeys = nsw = 0;
			shave = sout_len = sout_sent = 0;
			xs_client_init(&c, &store_page, store_notify, NULL);
			for (char *op; (op = strtok(NULL, " \n"));) {
				char *arg = strchr(op, ':');
				if (arg)
					*arg++ = 0;
				if (!strcmp(op, "write") || !strcmp(op, "big")) {
					char *eq = strchr(arg, '=');
					*eq = 0;
					const char *v = eq + 1;
					if (!strcmp(op, "big")) {
						size_t n = strtoul(v, NULL, 0);
						memset(value, 'x', n);
						value[n] = 0;
						v = value;
					}
					const char *parts[2] = { arg, v };
					size_t lens[2] = { strlen(arg) + 1, strlen(v) };
					printf("%s %d; ", op, session_call(&c, XS_WRITE, parts, lens, 2));
				} else if (!strcmp(op, "read") || !strcmp(op, "dir")) {
					const char *parts[1] = { arg };
					size_t lens[1] = { strlen(arg) + 1 };
					int r = session_call(&c, op[0] == 'r' ? XS_READ : XS_DIRECTORY, parts, lens, 1);
					printf("%s %d", op, r);
					if (!r && op[0] == 'r')
						printf(" %zu:%.40s", c.reply_len, c.reply);
					if (!r && op[0] == 'd') {
						const char *names[16];
						int k = xs_split(c.reply, c.reply_len, names, 16);
						for (int i = 0; i < k && i < 16; i++)
							printf(" %s", names[i]);
					}
					printf("; ");
				} else if (!strcmp(op, "watch") || !strcmp(op, "unwatch")) {
					char *tk = strchr(arg, ':');
					*tk++ = 0;
					const char *parts[2] = { arg, tk };
					size_t lens[2] = { strlen(arg) + 1, strlen(tk) + 1 };
					printf("%s %d; ", op, session_call(&c, op[0] == 'w' ? XS_WATCH : XS_UNWATCH, parts, lens, 2));
				} else if (!strcmp(op, "event")) {
					char buf[256];
					const char *path, *token;
					xs_client_poll(&c);
					if (xs_client_event(&c, buf, sizeof(buf), &path, &token))
						printf("event %s %s; ", path, token);
					else
						printf("event none; ");
				}
			}
			printf("dropped %u broken %d", c.dropped, c.broken);
		} else if (!strcmp(cmd, "gnt_grant")) {
			struct grant_entry_v1 e = { 0xffff, 0xffff, 0xffffffff };
			domid_t d = (domid_t)num();
			uint32_t f = (uint32_t)num();
			gnttab_entry_grant(&e, d, f, num() != 0);
			hex(&e, sizeof(e));
		} else if (!strcmp(cmd, "gnt_end")) {
			struct grant_entry_v1 e;
			unhex(tok(), &e, sizeof(e));
			int r = gnttab_entry_end(&e);
			printf("%d ", r);
			hex(&e, sizeof(e));
		} else if (!strcmp(cmd, "gnt_list")) {
			static grant_ref_t next[4096];
			struct gnttab_freelist fl;
			gnttab_freelist_init(&fl, next, (uint32_t)num());
			printf("free=%u", fl.free);
			for (char *op; (op = strtok(NULL, " \n"));) {
				if (op[0] == 'a')
					printf(" %ld", gnttab_ref_alloc(&fl));
				else
					printf(" %d", gnttab_ref_free(&fl, (grant_ref_t)strtoul(op + 1, NULL, 0)));
			}
			printf(" free=%u", fl.free);
		} else if (!strcmp(cmd, "evtchn")) {
			static struct shared_info s __attribute__((aligned(4096)));
			memset(&s, 0, sizeof(s));
			unhex(tok(), &s, sizeof(s));
			sh = &s;
			raise_from = (long)strtol(tok(), NULL, 0);
			raise_to = (long)strtol(tok(), NULL, 0);
			struct xen_evtchn_stats st;
			printf("ports ");
			xen_evtchn_2l_dispatch(&s, &s.vcpu_info[0], handler, NULL, &st);
			printf(" words %u rounds %u calls %u sel %llx upcall %u pending ", st.words, st.rounds, st.ports,
			       (unsigned long long)s.vcpu_info[0].evtchn_pending_sel, s.vcpu_info[0].evtchn_upcall_pending);
			hex(s.evtchn_pending, sizeof(s.evtchn_pending));
		} else if (!strcmp(cmd, "evtchn_unmask")) {
			static struct shared_info s;
			memset(&s, 0, sizeof(s));
			unhex(tok(), &s, sizeof(s));
			evtchn_port_t p = (evtchn_port_t)num();
			bool pend = xen_evtchn_2l_unmask(&s, p);
			printf("%d ", pend);
			hex(s.evtchn_mask, sizeof(s.evtchn_mask));
		} else if (!strcmp(cmd, "pvh")) {
			mem_base = num();
			mem_len = unhex(tok(), mem, sizeof(mem));
			uint64_t pa = num();
			static struct pvh_info pi;
			int r = pvh_parse_start_info(phys, NULL, pa, &pi);
			printf("rc %d", r);
			if (!r) {
				printf(" version %u cmdline %llx rsdp %llx modules %u", pi.version,
				       (unsigned long long)pi.cmdline_paddr, (unsigned long long)pi.rsdp_paddr, pi.nr_modules);
				for (unsigned i = 0; i < pi.nr_modules && i < PVH_MAX_MODULES; i++)
					printf(" m:%llx:%llx:%llx", (unsigned long long)pi.modules[i].paddr,
					       (unsigned long long)pi.modules[i].size,
					       (unsigned long long)pi.modules[i].cmdline_paddr);
				printf(" regions %u trunc %d", pi.nregions, pi.regions_truncated);
				for (unsigned i = 0; i < pi.nregions; i++)
					printf(" r:%llx:%llx:%u", (unsigned long long)pi.regions[i].base,
					       (unsigned long long)pi.regions[i].size, pi.regions[i].type);
			}
		} else if (!strcmp(cmd, "mc")) {
			struct multicall_entry e;
			unsigned op = (unsigned)num(), n = 0;
			uint64_t args[6];
			for (char *a; n < 6 && (a = strtok(NULL, " \n"));)
				args[n++] = strtoull(a, NULL, 0);
			xen_multicall_encode(&e, op, n, args);
			hex(&e, sizeof(e));
		} else if (!strcmp(cmd, "mc_failed")) {
			static struct multicall_entry e[8];
			size_t n = unhex(tok(), e, sizeof(e)) / sizeof(e[0]);
			printf("%d", xen_multicall_failed(e, (unsigned)n));
		} else if (!strcmp(cmd, "cbvec")) {
			uint64_t v = xen_callback_via_vector((uint8_t)num());
			hex(&v, sizeof(v));
		} else if (!strcmp(cmd, "hvm_param")) {
			struct xen_hvm_param p;
			memset(&p, 0xaa, sizeof(p));
			uint32_t idx = (uint32_t)num();
			xen_hvm_param_encode(&p, idx, num());
			printf("%04x %08x %016llx", p.domid, p.index, (unsigned long long)p.value);
		} else if (!strcmp(cmd, "physmap")) {
			struct xen_add_to_physmap a;
			memset(&a, 0xaa, sizeof(a));
			uint32_t space = (uint32_t)num();
			uint64_t idx = num();
			xen_add_to_physmap_encode(&a, space, idx, num());
			hex(&a, sizeof(a));
		} else if (!strcmp(cmd, "setup_table")) {
			struct gnttab_setup_table t;
			memset(&t, 0, sizeof(t));
			uint32_t nr = (uint32_t)num();
			xen_setup_table_encode(&t, nr, (xen_pfn_t *)(uintptr_t)num());
			printf("%04x %08x %04x %016llx", t.dom, t.nr_frames, (uint16_t)t.status,
			       (unsigned long long)t.frame_list);
		} else if (!strcmp(cmd, "pvclock")) {
			struct pvclock_vcpu_time_info t = { 0 };
			t.tsc_to_system_mul = (uint32_t)num();
			t.tsc_shift = (int8_t)strtol(tok(), NULL, 0);
			t.tsc_timestamp = num();
			t.system_time = num();
			uint64_t tsc = num();
			printf("%llu %llu", (unsigned long long)pvclock_scale(&t, tsc),
			       (unsigned long long)pvclock_tsc_hz(t.tsc_to_system_mul, t.tsc_shift));
		} else {
			printf("unknown %s", cmd);
		}
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
