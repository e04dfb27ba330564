// The Go twin of spin.c: TOTAL rounds of a register-only loop split over
// GOMAXPROCS goroutines (GOMAXPROCS = the CPUs the runtime sees). Prints the
// wall time of the parallel part.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"
)

var sink uint64

func main() {
	total := 400000000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			total = v
		}
	}
	n := runtime.GOMAXPROCS(0)
	per := total / n
	var wg sync.WaitGroup
	var mu sync.Mutex
	t0 := time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := uint64(g + 1)
			for i := 0; i < per; i++ {
				x = x*6364136223846793005 + 1442695040888963407
			}
			mu.Lock()
			sink += x
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	fmt.Printf("spin threads %d ms %d\n", n, time.Since(t0).Milliseconds())
	// Linux as /init: its panic at our exit would race the tty's output.
	time.Sleep(300 * time.Millisecond)
}
