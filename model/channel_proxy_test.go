package model

import "testing"

// TestProxyPasswordMaskedAndKept pins how the API shows a channel's proxy
// and what an edit keeps: the password is masked; the masked URL sent back
// unchanged keeps the stored one; any other edit is taken as written.
func TestProxyPasswordMaskedAndKept(t *testing.T) {
	const stored = `{"proxy":"http://u:p%40ss@proxy.example:3128","region":"x"}`
	if got := maskProxy(stored); got != `{"proxy":"http://u:xxxxx@proxy.example:3128","region":"x"}` {
		t.Fatalf("maskProxy = %s", got)
	}
	for _, tc := range []struct{ name, edited, want string }{
		{"masked form sent back", `{"proxy":"http://u:xxxxx@proxy.example:3128","region":"y"}`, `{"proxy":"http://u:p%40ss@proxy.example:3128","region":"y"}`},
		{"new password", `{"proxy":"http://u:new@proxy.example:3128"}`, `{"proxy":"http://u:new@proxy.example:3128"}`},
		{"new host, mask kept", `{"proxy":"http://u:xxxxx@other.example:3128"}`, `{"proxy":"http://u:xxxxx@other.example:3128"}`},
		{"proxy removed", `{"region":"x"}`, `{"region":"x"}`},
		{"proxy emptied", `{"proxy":""}`, `{"proxy":""}`},
		{"not an object", `[1]`, `[1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keepProxyPassword(tc.edited, stored); got != tc.want {
				t.Fatalf("keepProxyPassword(%s) = %s, want %s", tc.edited, got, tc.want)
			}
		})
	}
	for _, c := range []string{`{"proxy":"http://proxy.example:3128"}`, `{"proxy":"socks5://u@proxy.example:1080"}`, `{}`, ``, `not json`} {
		if got := maskProxy(c); got != c {
			t.Fatalf("maskProxy(%s) = %s: nothing to mask", c, got)
		}
	}
}
