package adaptor

import (
	"context"
	"net/http"
	"net/url"
)

// StoredResponder is an adaptor whose provider keeps Responses answers
// (OpenAI, Azure): the relay passes GET and DELETE /v1/responses/{id},
// GET /v1/responses/{id}/input_items and POST /v1/responses/{id}/cancel
// to the channel that made the answer.
type StoredResponder interface {
	// NewStoredRequest builds the call that reads (GET), deletes (DELETE)
	// or acts on stored response id: sub is "" for the response itself,
	// else the sub-resource (StoredInputItems, StoredCancel); query is the
	// client's query string. None has a body.
	NewStoredRequest(ctx context.Context, up *Upstream, method, id, sub, query string) (*http.Request, error)
}

// The sub-resources of a stored response that the relay passes on.
const (
	StoredInputItems = "input_items"
	StoredCancel     = "cancel"
)

// StoredPath is the path of stored response id's sub-resource sub ("" for
// the response itself) below the responses collection, with id escaped.
func StoredPath(id, sub string) string {
	p := "/" + url.PathEscape(id)
	if sub != "" {
		p += "/" + sub
	}
	return p
}

// Keeper is a front whose answers an upstream may keep for later calls
// (Responses, unless the call says store: false): the engine remembers
// which channel made each such answer it passed through, so the calls
// that fetch it reach that channel.
type Keeper interface {
	Keeps(req *Request) bool
}

// Continuer is a front whose calls may continue an answer an upstream
// keeps (Responses' previous_response_id): the engine sends such a call
// to the channel that keeps it, since no other channel knows it.
type Continuer interface {
	// Continues is the id of the kept answer req continues, "" for none.
	Continues(req *Request) string
}
