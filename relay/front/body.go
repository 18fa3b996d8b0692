// Package front holds what every client front shares; each front lives in
// its own package below (openai, anthropic, ...).
package front

import (
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
// copying); larger ones grow as they arrive, so a client that announces
// megabytes and sends nothing holds nothing. The body limit's reader
// still refuses past its size.
func readBody(hr *http.Request) ([]byte, error) {
	n := hr.ContentLength
	if n <= 0 || n > 64<<10 {
		return io.ReadAll(hr.Body)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(hr.Body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}
