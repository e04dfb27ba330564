/* A register-level model of one 82599 virtual function and the PF side of
 * its mailbox, written from the 82599 datasheet (8.3.5 VF registers,
 * 7.10.2.9 mailbox, 7.1.6 / 7.2.3 advanced descriptors). The VF's DMA
 * addresses are host pointers. The model also polices the driver: any
 * access the datasheet forbids is recorded in `violation`. */
#ifndef IXGBEVF_MODEL_H
#define IXGBEVF_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "../../../modules/ixgbevf/ixgbevf_hw.h"

enum pf_quirk {
	PF_OK,
	PF_SILENT,          /* never answers a request */
	PF_RESET_MCAST_MAC, /* VF_RESET answered with a multicast address */
	PF_RESET_WRONG_TYPE,/* VF_RESET answered as if it were SET_MAC_ADDR */
	PF_RESET_NACK,      /* VF_RESET refused */
	PF_BOTH_FLAGS,      /* replies carry SUCCESS and FAILURE together */
	PF_QUEUES_ZERO,     /* GET_QUEUES says 0 Tx queues */
	PF_QUEUES_DEFQ,     /* GET_QUEUES' default queue is past the Rx queues */
	PF_RESET_SLOW,      /* RSTI stays set for 50 sleeps after a VF reset */
	PF_FAST,            /* acks and answers before the VF looks: PFACK and PFSTS in one read */
};

enum rx_kind { RX_GOOD, RX_LONG_LEN, RX_NO_EOP, RX_CRC_ERR, RX_RUNT, RX_NO_DD_LATER };

struct model {
	uint32_t reg[IXV_BAR_SIZE / 4];
	/* Mailbox. */
	uint32_t mbmem[IXV_MBX_WORDS];
	bool vfu, pfu, rsti;
	uint32_t r2c;            /* PFSTS / PFACK / RSTD waiting for the VF to read */
	int rsti_sleeps;         /* PF finishes the VF reset after this many sleeps */
	bool reply_due;
	uint32_t reply[IXV_MBX_WORDS];
	unsigned reply_len;
	/* PF state and knobs. */
	enum pf_quirk quirk;
	int pf_max_api;          /* highest enum ixv_api accepted; -1: refuses every negotiation */
	uint8_t mac[6];
	unsigned mc_type, txq, rxq, defq;
	bool link;
	/* What the PF saw. */
	unsigned msgs[32];       /* count per message type */
	unsigned nacks;
	int api_agreed;
	uint32_t lpe;
	unsigned nmc;
	uint16_t mc[30];
	unsigned vf_acks;        /* VF acked a PF-initiated message */
	/* Interrupts: MSI-X vectors fired. */
	uint32_t eicr;
	unsigned fired[3];
	/* Transmit: frames put on the wire. */
	bool tx_hold;            /* do not process TDT writes (ring fills up) */
	unsigned nwire;
	uint8_t wire[1024][IXV_BUF];
	unsigned wire_len[1024];
	/* The first forbidden driver action seen. */
	char violation[200];
	unsigned sleeps;
};

void model_init(struct model *m);
extern const struct ixgbevf_ops model_ops;
/* The wire hands the VF a frame: written at RDH (as `kind` says), interrupt raised. */
bool model_rx(struct model *m, const uint8_t *frame, unsigned len, enum rx_kind kind);
/* The PF sends a message of its own (e.g. IXV_PF_CONTROL_MSG). */
bool model_pf_send(struct model *m, uint32_t word);
void model_tx_release(struct model *m);

#endif
