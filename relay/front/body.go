// Package front holds what every client front shares; each front lives in
// its own package below (openai, anthropic, ...).
package front

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"

	"switchyard/common/errs"
)

// ReadJSON reads a JSON body, telling a body over the size limit (413)
// from one that could not be read.
func ReadJSON(hr *http.Request) ([]byte, error) {
	if ct := hr.Header.Get("Content-Type"); ct != "" && ct != "application/json" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "" && mt != "application/json" {
			return nil, errs.BadRequest("the body must be JSON (Content-Type: application/json)")
		}
	}
	raw, err := readBody(hr)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "request body is too large")
		}
		return nil, errs.BadRequest("could not read the request body")
	}
	return raw, nil
}

// readBody reads the whole body, into one buffer of its announced length
// when it announced one of up to 64 KiB (io.ReadAll grows from 512 bytes,
// copying). A larger one starts at 64 KiB and doubles as it arrives (a
// 100 KB prompt is copied once, not eight times), so a client that
// announces megabytes and sends nothing holds 64 KiB. The body limit's
// reader still refuses past its size.
func readBody(hr *http.Request) ([]byte, error) {
	n := hr.ContentLength
	switch {
	case n <= 0:
		return io.ReadAll(hr.Body)
	case n > 64<<10:
		// bytes.Buffer doubles when it fills (io.ReadAll grows by quarters).
		buf := bytes.NewBuffer(make([]byte, 0, 64<<10))
		if _, err := buf.ReadFrom(hr.Body); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(hr.Body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
