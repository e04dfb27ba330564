// Goroutines, channels, a mutex-heavy loop, time.Sleep, file I/O and a nil
// dereference recovered with recover(); exits with status 3.
package main

import (
	"fmt"
	"os"
	"sync"
	"time"
)

type T struct{ x int }

func nilDeref() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("recovered: %v", r)
		}
	}()
	var p *T
	fmt.Println(p.x)
	return nil
}

func main() {
	fmt.Println("hello from Go", os.Args[1:])
	ch := make(chan int)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ch <- i * i
		}(i)
	}
	go func() { wg.Wait(); close(ch) }()
	sum := 0
	for v := range ch {
		sum += v
	}
	fmt.Println("sum", sum)
	var mu sync.Mutex
	cnt := 0
	var wg2 sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := 0; i < 10000; i++ {
				mu.Lock()
				cnt++
				mu.Unlock()
			}
		}()
	}
	wg2.Wait()
	fmt.Println("count", cnt)
	t0 := time.Now()
	time.Sleep(50 * time.Millisecond)
	fmt.Println("slept", time.Since(t0) >= 50*time.Millisecond)
	if err := os.WriteFile("/tmp/x.txt", []byte("data123"), 0644); err != nil {
		fmt.Println("write error", err)
	}
	b, err := os.ReadFile("/tmp/x.txt")
	fmt.Println("read", string(b), err)
	fmt.Println(nilDeref())
	os.Exit(3)
}
