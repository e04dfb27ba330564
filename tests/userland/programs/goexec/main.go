// os/exec from a multi-threaded Go program: the runtime starts the child
// with clone(CLONE_VFORK|CLONE_VM) and execve; pipes to its stdin and from
// its stdout, its environment, its exit status, and a context timeout that
// kills it. The child is this program again ("child ..." arguments).
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

func child(mode string) {
	switch mode {
	case "upper":
		var buf bytes.Buffer
		buf.ReadFrom(os.Stdin)
		fmt.Printf("%s %s %d", strings.ToUpper(buf.String()), os.Getenv("GOEXEC"), os.Getppid())
		os.Exit(3)
	case "sleep":
		time.Sleep(time.Minute)
	}
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "child" {
		child(os.Args[2])
		return
	}
	// Busy goroutines: the fork happens from a process with several threads.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for {
				select {
				case <-stop:
					return
				default:
					n++
				}
			}
		}()
	}
	for i := 0; i < 3; i++ {
		cmd := exec.Command(os.Args[0], "child", "upper")
		cmd.Stdin = strings.NewReader(strings.Repeat("abc", 30000))
		cmd.Env = append(os.Environ(), "GOEXEC=env-ok")
		out, err := cmd.Output()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		s := string(out)
		fmt.Printf("run %d: len %d prefix %q suffix %q code %d\n", i, len(s), s[:6], s[len(s)-len(" env-ok 1"):], code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := exec.CommandContext(ctx, os.Args[0], "child", "sleep").Run()
	fmt.Printf("timeout: %v (quick %v)\n", err, time.Since(start) < 20*time.Second)
	close(stop)
	wg.Wait()
	fmt.Println("goexec done")
}
