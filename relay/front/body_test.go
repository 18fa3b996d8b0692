package front

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"switchyard/common/errs"
)

func jsonRequest(body io.Reader, announced int64) *http.Request {
	hr := httptest.NewRequest("POST", "/v1/chat/completions", body)
	hr.Header.Set("Content-Type", "application/json")
	hr.ContentLength = announced
	return hr
}

func TestReadJSONReadsBodiesOfEverySize(t *testing.T) {
	for _, n := range []int{0, 1, 100, 64 << 10, 64<<10 + 1, 100 << 10, 300 << 10} {
		body := bytes.Repeat([]byte("x"), n)
		for _, announced := range []int64{int64(n), -1} {
			got, err := ReadJSON(jsonRequest(bytes.NewReader(body), announced))
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("%d bytes announced as %d: read %d bytes, %v", n, announced, len(got), err)
			}
		}
	}
}

func TestALargeBodyIsCopiedOnce(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 100<<10)
	got, err := readBody(jsonRequest(bytes.NewReader(body), int64(len(body))))
	if err != nil || len(got) != len(body) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if cap(got) != 128<<10 {
		t.Fatalf("a 100 KiB body ended in a buffer of %d bytes, want one doubling of 64 KiB", cap(got))
	}
}

func TestABodyThatAnnouncesMoreThanItSendsIsRefused(t *testing.T) {
	// net/http's body reader reports a short body as an unexpected EOF.
	short := io.MultiReader(strings.NewReader(`{"model":"x"}`), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, err := ReadJSON(jsonRequest(short, 1<<20))
	if e := errs.As(err); e == nil || e.Status != http.StatusBadRequest {
		t.Fatalf("a cut body: %v, want 400", err)
	}
}

func TestABodyOverTheLimitIs413(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 200<<10)
	hr := jsonRequest(bytes.NewReader(body), int64(len(body)))
	hr.Body = http.MaxBytesReader(httptest.NewRecorder(), hr.Body, 100<<10)
	_, err := ReadJSON(hr)
	if e := errs.As(err); e == nil || e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("an oversized body: %v, want 413", err)
	}
}
