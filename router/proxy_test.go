package router

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gin-gonic/gin"
)

func TestTrustProxies(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	cases := []struct {
		name    string
		proxies []netip.Prefix
		peer    string
		headers map[string]string
		want    string
	}{
		{"no proxies: forwarded headers ignored", nil, "198.51.100.7:4000",
			map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.10"}, "198.51.100.7"},
		{"untrusted peer: ignored", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.7:4000",
			map[string]string{"X-Forwarded-For": "203.0.113.9"}, "198.51.100.7"},
		{"trusted peer: believed", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.1.2.3:4000",
			map[string]string{"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"},
		{"trusted chain: rightmost untrusted hop", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "10.1.2.3:4000",
			map[string]string{"X-Forwarded-For": "192.0.2.1, 203.0.113.9, 10.9.9.9"}, "203.0.113.9"},
		{"trusted peer: X-Real-IP", []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}, "10.1.2.3:4000",
			map[string]string{"X-Real-IP": "203.0.113.11"}, "203.0.113.11"},
		{"trusted peer, no header: the peer", []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32")}, "10.1.2.3:4000",
			nil, "10.1.2.3"},
		{"trusted IPv6 peer", []netip.Prefix{netip.MustParsePrefix("::1/128")}, "[::1]:4000",
			map[string]string{"X-Forwarded-For": "2001:db8::5"}, "2001:db8::5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := gin.New()
			trustProxies(r, tc.proxies)
			r.GET("/ip", func(c *gin.Context) { c.String(200, c.ClientIP()) })
			req := httptest.NewRequest("GET", "/ip", nil)
			req.RemoteAddr = tc.peer
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if got := w.Body.String(); got != tc.want {
				t.Fatalf("client IP = %q, want %q", got, tc.want)
			}
		})
	}
}
