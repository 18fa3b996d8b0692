package adaptor

import (
	"context"
	"net/http"
	"net/url"
)

// A channel may send its calls through a proxy of its own (an HTTP, HTTPS
// or SOCKS5 URL in its config's "proxy"): relayed calls, counts, stored
// answers, tests, balance queries and Vertex's token requests all go
// through it. ForChannel, which the engine and the adaptors' own side
// calls apply to every request, puts the proxy in the request's context,
// and the relay transport's Proxy hook, ProxyFor,
// reads it back (Vertex's token client, whose requests carry no context,
// fixes it on a transport of its own); a channel without one goes the way
// the environment says (HTTPS_PROXY, NO_PROXY), as before.

type proxyKey struct{}

// withProxy is ctx carrying proxy for ProxyFor; a nil proxy is ctx itself.
func withProxy(ctx context.Context, proxy *url.URL) context.Context {
	if proxy == nil {
		return ctx
	}
	return context.WithValue(ctx, proxyKey{}, proxy)
}

// ProxyFor is an http.Transport's Proxy hook: the channel's proxy that the
// request's context carries, else the environment's.
func ProxyFor(r *http.Request) (*url.URL, error) {
	if p, ok := r.Context().Value(proxyKey{}).(*url.URL); ok {
		return p, nil
	}
	return http.ProxyFromEnvironment(r)
}

// ForChannel readies r, built by an adaptor, to go to up's channel: its
// extra headers set (replacing what the adaptor set under the same names)
// and its proxy, if it has one, in r's context. Use the request it
// returns.
func ForChannel(r *http.Request, up *Upstream) *http.Request {
	for k, v := range up.Headers {
		r.Header[k] = v
	}
	if up.Proxy != nil {
		r = r.WithContext(withProxy(r.Context(), up.Proxy))
	}
	return r
}
