#ifndef XEN_INTERNAL_H
#define XEN_INTERNAL_H

#include <init/initcall.h>

void xen_evtchn_upcall(void);
void xen_grant_init(void);

#endif
