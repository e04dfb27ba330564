/* lwIP configuration for osvb (lwIP's fixed name lwipopts.h): an OS port
 * (NO_SYS=0) with the tcpip thread and core locking, memory from kmalloc,
 * IPv4 + IPv6, TCP, UDP, loopback, the socket layer (used by ksock.c). */
#ifndef LWIPOPTS_H
#define LWIPOPTS_H

#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1
#define LWIP_TCPIP_CORE_LOCKING 1
#define LWIP_TCPIP_CORE_LOCKING_INPUT 0
#define LWIP_NETCONN_SEM_PER_THREAD 0
#define LWIP_NETCONN_FULLDUPLEX 0

/* Memory: the kernel heap, no fixed pools. */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define mem_clib_malloc lwip_port_malloc
#define mem_clib_free lwip_port_free
#define mem_clib_calloc lwip_port_calloc
#include <stddef.h>
void *lwip_port_malloc(size_t size);
void *lwip_port_calloc(size_t n, size_t size);
void lwip_port_free(void *p);
#define MEMP_NUM_NETCONN 1024
#define MEMP_NUM_TCP_PCB 1024
#define MEMP_NUM_TCP_PCB_LISTEN 64
#define MEMP_NUM_UDP_PCB 64
#define MEMP_NUM_TCP_SEG 4096
#define PBUF_POOL_SIZE 1024

/* Threads and mailboxes. */
#define TCPIP_THREAD_NAME "tcpip"
#define TCPIP_THREAD_STACKSIZE 0
#define TCPIP_THREAD_PRIO 0
#define TCPIP_MBOX_SIZE 1024
#define DEFAULT_THREAD_STACKSIZE 0
#define DEFAULT_RAW_RECVMBOX_SIZE 256
#define DEFAULT_UDP_RECVMBOX_SIZE 256
#define DEFAULT_TCP_RECVMBOX_SIZE 1024
#define DEFAULT_ACCEPTMBOX_SIZE 1024

/* Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_DHCP6 0
#define LWIP_IPV6_NUM_ADDRESSES 4
#define LWIP_ND6_NUM_DESTINATIONS 32
#define LWIP_ND6_NUM_NEIGHBORS 32
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_IPV6_REASS 1
#define LWIP_IPV6_FRAG 1
#define IP_REASS_MAX_PBUFS 64
#define IP_FORWARD 0
#define ARP_TABLE_SIZE 64
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0

/* TCP sizing (the window scale option lets windows exceed 64 KiB). */
#define TCP_MSS 1460
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 4
#define TCP_WND (CONFIG_LWIP_TCP_WND_KB * 1024)
#define TCP_SND_BUF (CONFIG_LWIP_TCP_WND_KB * 1024)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF + TCP_MSS - 1) / TCP_MSS)
/* lwIP keeps the low-water mark in 16 bits. */
#define TCP_SNDLOWAT ((TCP_SND_BUF / 4) < 50000 ? (TCP_SND_BUF / 4) : 50000)
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 4)
#define TCP_QUEUE_OOSEQ 1
#define TCP_LISTEN_BACKLOG 1
#define TCP_OVERSIZE TCP_MSS
#define LWIP_TCP_KEEPALIVE 1
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_TCP_SACK_OUT 0

/* Interfaces: the loopback netif (127.0.0.1, ::1), sends to our own addresses looped. */
#define LWIP_HAVE_LOOPIF 1
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_LOOPBACK_MAX_PBUFS 0
#define LWIP_NETIF_LOOPBACK_MULTITHREADING 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 1
#define LWIP_NETIF_HOSTNAME 0
#define LWIP_SINGLE_NETIF 0
#define LWIP_NETIF_API 1
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1

/* Sequential and socket APIs (ksock.c), nonblocking use only. */
#define LWIP_NETCONN 1
#define LWIP_SOCKET 1
#define LWIP_COMPAT_SOCKETS 0
#define LWIP_POSIX_SOCKETS_IO_NAMES 0
#define LWIP_SOCKET_OFFSET 0
#define LWIP_SOCKET_SELECT 0
#define LWIP_SOCKET_POLL 1
#define LWIP_SO_RCVBUF 1
#define LWIP_SO_SNDTIMEO 0
#define LWIP_SO_RCVTIMEO 0
#define LWIP_SO_LINGER 0
#define SO_REUSE 1
#define SO_REUSE_RXTOALL 1
#define LWIP_TCP_CLOSE_TIMEOUT_MS_DEFAULT 5000
#define RECV_BUFSIZE_DEFAULT (CONFIG_LWIP_TCP_WND_KB * 1024)
#define LWIP_FIONREAD_LINUXMODE 1
#define LWIP_NETBUF_RECVINFO 1
#define LWIP_SOCKET_EXTERNAL_HEADERS 0

/* Routing: longest prefix across netifs, then the default (route.c). */
#define LWIP_HOOK_FILENAME "lwip_hooks.h"
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) osvb_ip4_route(src, dest)
#define LWIP_HOOK_IP6_ROUTE(src, dest) osvb_ip6_route(src, dest)

/* Statistics feed the counters the kernel prints. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MIB2_STATS 0

#define LWIP_DEBUG 0
#define LWIP_NOASSERT 0

#endif
