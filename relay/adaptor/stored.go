package adaptor

import (
	"context"
	"net/http"
)

// StoredResponder is an adaptor whose provider keeps Responses answers
// (OpenAI, Azure): the relay passes GET and DELETE /v1/responses/{id} to
// the channel that made the answer.
type StoredResponder interface {
	// NewStoredRequest builds the call that reads (GET) or deletes
	// (DELETE) stored response id; query is the client's query string.
	NewStoredRequest(ctx context.Context, up *Upstream, method, id, query string) (*http.Request, error)
}

// Keeper is a front whose answers an upstream may keep for later calls
// (Responses, unless the call says store: false): the engine remembers
// which channel made each such answer it passed through, so the calls
// that fetch it reach that channel.
type Keeper interface {
	Keeps(req *Request) bool
}
