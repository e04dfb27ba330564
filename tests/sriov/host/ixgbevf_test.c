/* Scenarios for modules/ixgbevf/hw.c against the 82599 VF model: the
 * mailbox handshake with PFs of every API level, frames both ways through
 * the rings, and malformed replies and descriptors that must be refused.
 * One line per scenario: "ok NAME ..." or "not ok NAME: why". */
#include "ixgbevf_model.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static struct model *m;
static struct ixgbevf_hw hw;
static struct ixv_rx_desc rxr[IXV_RING] __attribute__((aligned(4096)));
static struct ixv_tx_desc txr[IXV_RING] __attribute__((aligned(4096)));
static uint8_t rxbuf[IXV_RING][IXV_BUF], txbuf[IXV_RING][IXV_BUF];
static uint8_t *rxp[IXV_RING], *txp[IXV_RING];

/* Frames the driver delivered. */
static unsigned ngot;
static uint8_t got[512][IXV_BUF];
static unsigned got_len[512];

static void deliver(void *arg, const uint8_t *f, unsigned len)
{
	(void)arg;
	if (ngot < 512) {
		memcpy(got[ngot], f, len);
		got_len[ngot++] = len;
	}
}

#define CHECK(name, cond, ...)                                   \
	do {                                                     \
		if (!(cond)) {                                   \
			printf("not ok %s: ", name);             \
			printf(__VA_ARGS__);                     \
			printf("\n");                            \
			failures++;                              \
			return;                                  \
		}                                                \
	} while (0)

static void fresh(enum pf_quirk q, int max_api)
{
	model_init(m);
	m->quirk = q;
	m->pf_max_api = max_api;
	memset(&hw, 0, sizeof(hw));
	hw.ops = &model_ops;
	hw.ctx = m;
	ngot = 0;
}

static void up(const char *name, enum pf_quirk q, int max_api, const char *want_api)
{
	fresh(q, max_api);
	int e = ixgbevf_init(&hw);
	CHECK(name, e == 0, "init returned %d (%s)", e, m->violation);
	CHECK(name, !memcmp(hw.mac, m->mac, 6), "MAC %02x:%02x.. is not the PF's", hw.mac[0], hw.mac[1]);
	CHECK(name, !m->violation[0], "%s", m->violation);
	CHECK(name, m->lpe == IXV_MAX_FRAME, "SET_LPE %u", m->lpe);
	CHECK(name, m->nmc == 2, "SET_MULTICAST carried %u hashes", m->nmc);
	const char *names[] = { "1.0", "2.0", "1.1", "1.2", "1.3", "1.4" };
	CHECK(name, !strcmp(names[hw.api], want_api), "negotiated %s, want %s", names[hw.api], want_api);
	printf("ok %s api=%s nacks=%u get_queues=%u queues=%u/%u mac=%02x:%02x:%02x:%02x:%02x:%02x\n", name,
	       names[hw.api], m->nacks, m->msgs[IXV_MSG_GET_QUEUES], hw.tx_queues, hw.rx_queues, hw.mac[0], hw.mac[1],
	       hw.mac[2], hw.mac[3], hw.mac[4], hw.mac[5]);
}

static void refused(const char *name, enum pf_quirk q, int want)
{
	fresh(q, IXV_API_14);
	int e = ixgbevf_init(&hw);
	CHECK(name, e == want, "init returned %d, want %d", e, want);
	CHECK(name, !m->violation[0], "%s", m->violation);
	printf("ok %s error=%d mbx_bad=%llu\n", name, e, (unsigned long long)hw.stats.mbx_bad);
}

static void frame(uint8_t *f, unsigned len, unsigned seed)
{
	for (unsigned i = 0; i < len; i++)
		f[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

static void bring_up_rings(void)
{
	for (unsigned i = 0; i < IXV_RING; i++) {
		rxp[i] = rxbuf[i];
		txp[i] = txbuf[i];
	}
	ixgbevf_rings(&hw, rxr, txr, rxp, txp);
	ixgbevf_irqs(&hw, 0, 1);
}

static void traffic(void)
{
	const char *name = "traffic";
	fresh(PF_OK, IXV_API_14);
	CHECK(name, ixgbevf_init(&hw) == 0, "init");
	bring_up_rings();
	CHECK(name, ixgbevf_link_up(&hw), "link down");
	/* 600 frames in: more than two trips round the ring, cleaned in batches of 100. */
	uint8_t f[IXV_BUF];
	unsigned sent = 0, fired0 = m->fired[0];
	unsigned long long sum_in = 0, sum_out = 0;
	for (unsigned b = 0; b < 6; b++) {
		ngot = 0;
		for (unsigned i = 0; i < 100; i++, sent++) {
			unsigned len = 60 + (sent * 37) % 1455;
			frame(f, len, sent);
			CHECK(name, model_rx(m, f, len, RX_GOOD), "the model found no free descriptor at frame %u", sent);
			for (unsigned k = 0; k < len; k++)
				sum_in += f[k] * (k + 1);
		}
		ixgbevf_rx(&hw, deliver, NULL);
		CHECK(name, ngot == 100, "batch %u: %u frames delivered", b, ngot);
		for (unsigned i = 0; i < ngot; i++)
			for (unsigned k = 0; k < got_len[i]; k++)
				sum_out += got[i][k] * (k + 1);
	}
	CHECK(name, sum_in == sum_out, "received bytes differ");
	CHECK(name, m->fired[0] - fired0 == 600, "rx vector fired %u times for 600 frames", m->fired[0] - fired0);
	CHECK(name, m->eicr == 0, "EICR %#x left set (auto-clear)", m->eicr);
	/* 700 frames out, including runts the driver pads to 60 bytes. */
	for (unsigned i = 0; i < 700; i++) {
		unsigned len = i % 50 == 0 ? 42 : 14 + (i * 53) % 1500;
		frame(f, len, i + 1000);
		CHECK(name, ixgbevf_xmit(&hw, f, len) == 0, "xmit %u refused", i);
		unsigned wl = m->wire_len[m->nwire - 1];
		CHECK(name, m->nwire == i + 1 && wl == (len < 60 ? 60 : len) && !memcmp(m->wire[m->nwire - 1], f, len),
		      "frame %u on the wire: %u bytes", i, wl);
	}
	CHECK(name, !m->violation[0], "%s", m->violation);
	printf("ok %s rx=%llu tx=%u rx_irqs=%u\n", name, (unsigned long long)hw.stats.rx_packets, m->nwire,
	       m->fired[0] - fired0);
}

static void tx_full(void)
{
	const char *name = "tx_ring_full";
	fresh(PF_OK, IXV_API_14);
	CHECK(name, ixgbevf_init(&hw) == 0, "init");
	bring_up_rings();
	m->tx_hold = true;
	uint8_t f[100];
	frame(f, sizeof(f), 1);
	unsigned ok = 0;
	while (ixgbevf_xmit(&hw, f, sizeof(f)) == 0 && ok < 1000)
		ok++;
	CHECK(name, ok == IXV_RING - 1, "%u frames queued on a %u-descriptor ring", ok, IXV_RING);
	CHECK(name, hw.stats.tx_busy == 1, "busy count %llu", (unsigned long long)hw.stats.tx_busy);
	model_tx_release(m);
	CHECK(name, m->nwire == IXV_RING - 1, "%u sent after release", m->nwire);
	CHECK(name, ixgbevf_xmit(&hw, f, sizeof(f)) == 0, "not reclaimed after the device finished");
	CHECK(name, ixgbevf_xmit(&hw, f, 3) == IXV_EMSGSIZE && ixgbevf_xmit(&hw, f, IXV_BUF + 1) == IXV_EMSGSIZE,
	      "bad lengths accepted");
	CHECK(name, !m->violation[0], "%s", m->violation);
	printf("ok %s queued=%u\n", name, ok);
}

static void bad_rx(void)
{
	const char *name = "rx_malformed";
	fresh(PF_OK, IXV_API_14);
	CHECK(name, ixgbevf_init(&hw) == 0, "init");
	bring_up_rings();
	uint8_t f[1000];
	frame(f, sizeof(f), 9);
	static const enum rx_kind kinds[] = { RX_LONG_LEN, RX_NO_EOP, RX_CRC_ERR, RX_RUNT };
	for (unsigned i = 0; i < 4; i++)
		CHECK(name, model_rx(m, f, sizeof(f), kinds[i]), "model refused kind %u", kinds[i]);
	CHECK(name, model_rx(m, f, 500, RX_GOOD), "good frame");
	ixgbevf_rx(&hw, deliver, NULL);
	CHECK(name, hw.stats.rx_bad == 4, "%llu bad descriptors counted, want 4", (unsigned long long)hw.stats.rx_bad);
	CHECK(name, ngot == 1 && got_len[0] == 500 && !memcmp(got[0], f, 500), "%u frames delivered", ngot);
	/* The ring goes on: every descriptor was reposted. */
	for (unsigned i = 0; i < 2 * IXV_RING; i++)
		CHECK(name, model_rx(m, f, 100, RX_GOOD) && ixgbevf_rx(&hw, deliver, NULL) == 1, "frame %u after", i);
	CHECK(name, !m->violation[0], "%s", m->violation);
	printf("ok %s bad=%llu delivered=%llu\n", name, (unsigned long long)hw.stats.rx_bad,
	       (unsigned long long)hw.stats.rx_packets);
}

static void pf_message(void)
{
	const char *name = "pf_message";
	fresh(PF_OK, IXV_API_14);
	CHECK(name, ixgbevf_init(&hw) == 0, "init");
	bring_up_rings();
	uint32_t w = 0;
	CHECK(name, !ixgbevf_mbx_poll(&hw, &w), "a message out of nothing");
	unsigned fired = m->fired[1], acks = m->vf_acks;
	CHECK(name, model_pf_send(m, IXV_PF_CONTROL_MSG), "PF could not send");
	CHECK(name, m->fired[1] == fired + 1, "mailbox vector did not fire");
	CHECK(name, ixgbevf_mbx_poll(&hw, &w) && w == IXV_PF_CONTROL_MSG, "got %#x", w);
	CHECK(name, m->vf_acks == acks + 1, "not acked");
	CHECK(name, !m->violation[0], "%s", m->violation);
	printf("ok %s word=%#x\n", name, w);
}

static void slow_reset(void)
{
	const char *name = "reset_waits_for_pf";
	fresh(PF_RESET_SLOW, IXV_API_14);
	int e = ixgbevf_init(&hw);
	CHECK(name, e == 0, "init returned %d", e);
	CHECK(name, !m->violation[0], "%s", m->violation);
	CHECK(name, m->sleeps >= 50, "only %u sleeps: did not wait for RSTI to clear", m->sleeps);
	printf("ok %s sleeps=%u\n", name, m->sleeps);
}

int main(void)
{
	m = calloc(1, sizeof(*m));
	if (!m)
		return 2;
	up("handshake_api14", PF_OK, IXV_API_14, "1.4");
	up("handshake_api12", PF_OK, IXV_API_12, "1.2");
	up("handshake_api11", PF_OK, IXV_API_11, "1.1");
	up("handshake_api10_only", PF_OK, -1, "1.0");
	up("handshake_fast_pf", PF_FAST, IXV_API_13, "1.3");
	refused("reset_reply_multicast_mac", PF_RESET_MCAST_MAC, IXV_EPROTO);
	refused("reset_reply_wrong_type", PF_RESET_WRONG_TYPE, IXV_EPROTO);
	refused("reset_reply_nack", PF_RESET_NACK, IXV_EIO);
	refused("reply_success_and_failure", PF_BOTH_FLAGS, IXV_EPROTO);
	refused("get_queues_zero", PF_QUEUES_ZERO, IXV_EPROTO);
	refused("get_queues_default_past_end", PF_QUEUES_DEFQ, IXV_EPROTO);
	refused("pf_silent", PF_SILENT, IXV_ETIMEDOUT);
	slow_reset();
	traffic();
	tx_full();
	bad_rx();
	pf_message();
	printf("%d failed\n", failures);
	return failures ? 1 : 0;
}
