// hello-go exercises what the Go runtime needs from a kernel: threads and
// futexes (goroutines, channels, a contended mutex), timers (time.Sleep),
// file I/O, and signals (a nil dereference becomes a SIGSEGV that the runtime
// turns into a panic, recovered here). It exits 0 only if every check passed.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

type node struct{ value int }

func checkf(ok bool, format string, args ...any) {
	if !ok {
		fmt.Printf("FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

// Goroutines feeding a channel, summed by the receiver.
func channels() {
	const workers, each = 8, 1000
	ch := make(chan int, 16)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 1; i <= each; i++ {
				ch <- i
			}
		}(w)
	}
	go func() { wg.Wait(); close(ch) }()
	sum := 0
	for v := range ch {
		sum += v
	}
	want := workers * each * (each + 1) / 2
	checkf(sum == want, "channel sum %d, want %d", sum, want)
	fmt.Printf("channels: %d goroutines sent %d values, sum %d\n", workers, workers*each, sum)
}

// Many goroutines incrementing one counter under a mutex.
func mutexes() {
	const goroutines, iters = 16, 20000
	var mu sync.Mutex
	counter := 0
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
				if i%1000 == 0 {
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	checkf(counter == goroutines*iters, "mutex counter %d, want %d", counter, goroutines*iters)
	fmt.Printf("mutex: %d goroutines x %d increments = %d\n", goroutines, iters, counter)
}

func sleeping() {
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	d := time.Since(start)
	checkf(d >= 50*time.Millisecond, "slept only %v", d)
	fmt.Println("sleep: slept at least 50ms")
}

func files() {
	dir := os.TempDir()
	path := filepath.Join(dir, "hello-go.txt")
	want := "written by hello-go\n"
	checkf(os.WriteFile(path, []byte(want), 0o644) == nil, "cannot write %s", path)
	got, err := os.ReadFile(path)
	checkf(err == nil && string(got) == want, "read back %q (%v)", got, err)
	checkf(os.Remove(path) == nil, "cannot remove %s", path)
	fmt.Printf("files: wrote, read back and removed %s\n", path)
}

func nilDeref() (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	var n *node
	return fmt.Sprint(n.value) // SIGSEGV -> runtime panic
}

func main() {
	fmt.Printf("hello from Go %s on %s/%s, %d CPUs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	channels()
	mutexes()
	sleeping()
	files()
	msg := nilDeref()
	checkf(msg != "", "nil dereference was not recovered")
	fmt.Printf("recovered: %s\n", msg)
	fmt.Println("hello-go: all checks passed")
}
