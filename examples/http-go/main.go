// A net/http server on osvb: GET /file/N answers N bytes of a fixed pattern
// (the host checks their sha256), POST /echo answers the body's sha256 and
// length, GET /quit stops the server (exit status 0).
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
)

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i * 7) ^ (i >> 8))
	}
	return b
}

func main() {
	addr := ":8080"
	if len(os.Args) > 1 {
		addr = ":" + os.Args[1]
	}
	mux := http.NewServeMux()
	srv := &http.Server{Addr: addr, Handler: mux}
	mux.HandleFunc("/file/", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Path[len("/file/"):])
		if err != nil || n < 0 || n > 64<<20 {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(pattern(n))
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "%s %d\n", hex.EncodeToString(h.Sum(nil)), n)
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "bye")
		go srv.Shutdown(context.Background())
	})
	fmt.Println("http-go: serving on", addr)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Fatal(err)
	}
	fmt.Println("http-go: stopped")
}
