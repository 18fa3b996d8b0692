// Package web serves the console: the Vite build in dist, embedded in the
// binary so that a server needs no Node.js and no files beside it.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// file is one embedded file, prepared once: its type, its ETag and, when it
// compresses well, a gzipped copy.
type file struct {
	body  []byte
	gz    []byte
	ctype string
	etag  string
}

// spa serves files from dist, and index.html for any other GET so that the
// console's client-side routes survive a reload.
type spa struct {
	files map[string]*file
	index *file
}

// Handler returns the console's HTTP handler. Hashed files under /assets/
// are cached for a year; index.html is revalidated on every load so a new
// release shows at once. A missing file under /assets/ is a 404, never
// index.html, which a browser would try to run as a script.
func Handler() http.Handler {
	h, err := newSPA(dist)
	if err != nil {
		// dist is compiled in; failing to read it is a broken build.
		panic("web: reading embedded dist: " + err.Error())
	}
	return h
}

func newSPA(root fs.FS) (*spa, error) {
	sub, err := fs.Sub(root, "dist")
	if err != nil {
		return nil, err
	}
	s := &spa{files: map[string]*file{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		f := &file{body: body, ctype: contentType(p)}
		sum := sha256.Sum256(body)
		f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		if compressible(f.ctype) && len(body) > 1024 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			if buf.Len() < len(body) {
				f.gz = buf.Bytes()
			}
		}
		s.files["/"+p] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.index = s.files["/index.html"]
	if s.index == nil {
		return nil, fs.ErrNotExist
	}
	return s, nil
}

func contentType(p string) string {
	switch path.Ext(p) {
	// The OS mime table varies between machines; these must not.
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".map":
		return "application/json"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") || ctype == "image/svg+xml"
}

func (s *spa) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	f, found := s.files[p]
	switch {
	case found && p == "/index.html":
		w.Header().Set("Cache-Control", "no-cache")
	case found && strings.HasPrefix(p, "/assets/"):
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	case found:
		w.Header().Set("Cache-Control", "public, max-age=3600")
	case strings.HasPrefix(p, "/assets/"):
		http.NotFound(w, r)
		return
	default:
		f = s.index
		w.Header().Set("Cache-Control", "no-cache")
	}
	serve(w, r, f)
}

// serve writes f, gzipped when the client takes it; http.ServeContent
// answers conditional and range requests.
func serve(w http.ResponseWriter, r *http.Request, f *file) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := f.body, f.etag
	if f.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body, etag = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
