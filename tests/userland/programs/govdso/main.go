// Go's runtime reads the clock through the vDSO (nanotime, walltime): time
// must never go backwards and must agree with the clock_gettime system call.
package main

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"
)

func sysMonotonic() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

func main() {
	start := time.Now()
	prev := start
	backwards := 0
	for i := 0; i < 2000; i++ {
		now := time.Now()
		if now.Before(prev) {
			backwards++
		}
		prev = now
	}
	// Go's monotonic readings are offsets from its own start; compare deltas.
	s0 := sysMonotonic()
	g0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	g1 := time.Now()
	s1 := sysMonotonic()
	dg := g1.Sub(g0).Nanoseconds()
	ds := s1 - s0
	fmt.Printf("go backwards=%d\n", backwards)
	fmt.Printf("go agrees=%v\n", dg > 0 && dg <= ds && ds-dg < int64(50*time.Millisecond))
	fmt.Printf("go wall=%v\n", time.Now().Year() >= 2024)
}
