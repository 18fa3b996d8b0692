package errs

import (
	"errors"
	"testing"
)

// TestWithCodeLeavesASharedErrorAlone: a package's sentinel error is
// returned by many requests at once; naming a code or a parameter on it
// for one of them must not change it for the others.
func TestWithCodeLeavesASharedErrorAlone(t *testing.T) {
	shared := BadRequest("shared")
	coded := shared.WithCode("one").WithParam("p")
	if shared.Code != "" || shared.Param != "" {
		t.Fatalf("the shared error changed: code %q, param %q", shared.Code, shared.Param)
	}
	if coded.Code != "one" || coded.Param != "p" || coded.Message != "shared" || coded.Status != shared.Status {
		t.Fatalf("the copy lost something: %+v", coded)
	}
	inner := errors.New("cause")
	wrapped := (&Error{Status: 500, Kind: KindInternal, Message: "x", Err: inner}).WithCode("c")
	if !errors.Is(wrapped, inner) {
		t.Fatal("the copy no longer unwraps to its cause")
	}
}
