// CPU-bound goroutines under GOMAXPROCS: each sums a range, the results meet
// in a channel, and runtime.NumCPU / GOMAXPROCS are printed. Exits 0 when
// the sum is right.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

func main() {
	n := 20000000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	procs := runtime.GOMAXPROCS(0)
	fmt.Println("go numcpu", runtime.NumCPU(), "gomaxprocs", procs)
	workers := procs * 2
	results := make(chan uint64, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var s uint64
			for i := w; i < n; i += workers {
				s += uint64(i) ^ (uint64(i) >> 3)
			}
			results <- s
		}(w)
	}
	wg.Wait()
	close(results)
	var total uint64
	for s := range results {
		total += s
	}
	var want uint64
	for i := 0; i < n; i++ {
		want += uint64(i) ^ (uint64(i) >> 3)
	}
	fmt.Println("go sum", total, "want", want, "parallel ms", time.Since(start).Milliseconds())
	if total != want {
		os.Exit(1)
	}
}
