package web

import (
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// firstAsset finds a built file with the given extension under dist/assets.
func firstAsset(t *testing.T, ext string) string {
	t.Helper()
	entries, err := fs.ReadDir(dist, "dist/assets")
	if err != nil {
		t.Fatalf("reading dist/assets: %v", err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) {
			return "/assets/" + e.Name()
		}
	}
	t.Fatalf("no %s file in dist/assets", ext)
	return ""
}

func TestIndexFallbackForClientRoutes(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/", "/index.html", "/token", "/channel?p=2", "/user/reset?email=a@b.c&token=x", "/deep/nested/route"} {
		t.Run(p, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, p, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d, want 200", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("Cache-Control %q, want no-cache", cc)
			}
			if !strings.Contains(rec.Body.String(), `<div id="root"></div>`) {
				t.Errorf("body is not index.html: %.200s", rec.Body.String())
			}
		})
	}
}

func TestAssetsAreServedWithTypeAndLongCache(t *testing.T) {
	h := Handler()
	for ext, ctype := range map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"} {
		t.Run(ext, func(t *testing.T) {
			p := firstAsset(t, ext)
			rec := get(t, h, http.MethodGet, p, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: status %d", p, rec.Code)
			}
			if got := rec.Header().Get("Content-Type"); got != ctype {
				t.Errorf("Content-Type %q, want %q", got, ctype)
			}
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
				t.Errorf("Cache-Control %q, want a year and immutable", cc)
			}
			want, _ := fs.ReadFile(dist, "dist"+p)
			if rec.Body.String() != string(want) {
				t.Errorf("body differs from the embedded file")
			}
		})
	}
}

func TestStaticFileOutsideAssets(t *testing.T) {
	rec := get(t, Handler(), http.MethodGet, "/favicon.svg", nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if cc := rec.Header().Get("Cache-Control"); strings.Contains(cc, "immutable") {
		t.Errorf("unhashed file cached as immutable: %q", cc)
	}
}

func TestMissingAssetIsNotFoundNotIndex(t *testing.T) {
	rec := get(t, Handler(), http.MethodGet, "/assets/does-not-exist-123.js", nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d, want 404", rec.Code)
	}
	if strings.Contains(rec.Body.String(), `<div id="root">`) {
		t.Fatal("a missing script was answered with index.html")
	}
}

func TestGzipWhenAccepted(t *testing.T) {
	h := Handler()
	p := firstAsset(t, ".js")
	rec := get(t, h, http.MethodGet, p, map[string]string{"Accept-Encoding": "br, gzip"})
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Skipf("%s is not stored gzipped (too small)", p)
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(zr)
	want, _ := fs.ReadFile(dist, "dist"+p)
	if string(got) != string(want) {
		t.Fatal("gunzipped body differs from the file")
	}
	if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
	plain := get(t, h, http.MethodGet, p, nil)
	if plain.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that did not ask for it")
	}
}

func TestConditionalGet(t *testing.T) {
	h := Handler()
	first := get(t, h, http.MethodGet, "/", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := get(t, h, http.MethodGet, "/", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified {
		t.Fatalf("status %d, want 304", again.Code)
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	h := Handler()
	if rec := get(t, h, http.MethodHead, "/", nil); rec.Code != http.StatusOK {
		t.Errorf("HEAD: %d", rec.Code)
	}
	if rec := get(t, h, http.MethodPost, "/", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", rec.Code)
	}
}

func TestPathTraversalStaysInDist(t *testing.T) {
	rec := get(t, Handler(), http.MethodGet, "/../embed.go", nil)
	if strings.Contains(rec.Body.String(), "package web") {
		t.Fatal("served a file outside dist")
	}
}
