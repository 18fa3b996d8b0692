// Command bareproxy is the floor any Go relay is measured against: a bare
// net/http/httputil.ReverseProxy to one upstream, run as its own process so
// its memory per open stream can be read from /proc beside the relay's.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	upstream := flag.String("upstream", "http://127.0.0.1:8089", "upstream base URL")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil {
		log.Fatalf("bareproxy: -upstream: %v", err)
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(u) },
		Transport: &http.Transport{MaxIdleConns: 20000, MaxIdleConnsPerHost: 20000, IdleConnTimeout: 90 * time.Second},
		ErrorLog:  log.New(os.Stderr, "bareproxy: ", 0),
	}
	fmt.Printf("bare proxy on http://%s to %s\n", *addr, *upstream)
	srv := &http.Server{Addr: *addr, Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
