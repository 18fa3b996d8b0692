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
	ct, _, _ := mime.ParseMediaType(hr.Header.Get("Content-Type"))
	if ct != "" && ct != "application/json" {
		return nil, errs.BadRequest("the body must be JSON (Content-Type: application/json)")
	}
	raw, err := io.ReadAll(hr.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errs.New(http.StatusRequestEntityTooLarge, errs.KindTooLarge, "request body is too large")
		}
		return nil, errs.BadRequest("could not read the request body")
	}
	return raw, nil
}
