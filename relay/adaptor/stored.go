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

// Continuer is a front whose calls may continue an answer an upstream
// keeps (Responses' previous_response_id): the engine sends such a call
// to the channel that keeps it, since no other channel knows it.
type Continuer interface {
	// Continues is the id of the kept answer req continues, "" for none.
	Continues(req *Request) string
}
