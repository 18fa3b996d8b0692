// Command fakeupstream serves the OpenAI-compatible test upstream on a
// port, for end-to-end tests of the console (the relay's own tests start
// it in-process with fakeupstream.Start).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"time"

	"switchyard/internal/fakeupstream"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "listen address")
	key := flag.String("key", "", "the only API key accepted (empty accepts any)")
	chunks := flag.Int("chunks", 3, "content pieces per answer")
	delay := flag.Duration("chunk-delay", 0, "pause between stream events")
	flag.Parse()
	s := fakeupstream.Start(fakeupstream.Behavior{Key: *key, Chunks: *chunks, ChunkDelay: *delay})
	defer s.Close()
	// Serve the same handler on the requested address.
	fmt.Printf("fake upstream on http://%s\n", *addr)
	srv := &http.Server{Addr: *addr, Handler: s.Config.Handler, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
