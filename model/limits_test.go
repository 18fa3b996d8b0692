package model_test

import (
	"testing"

	"switchyard/model"
	"switchyard/model/limit"
)

// TestLimitCallIsBuiltOncePerLimits: a token's rules are built once and
// shared while the token, its owner and the group's limits stay; a change
// to any of them (a replaced cached user, other group limits) rebuilds them.
func TestLimitCallIsBuiltOncePerLimits(t *testing.T) {
	lim := limit.New(nil, "")
	t.Cleanup(lim.Close)
	tok := &model.CachedToken{ID: 7, Limits: model.Limits{RPMLimit: 5}}
	owner := &model.CachedUser{ID: 3}
	first := tok.LimitCall(lim, owner, "default", model.Limits{})
	if first == nil || len(first.Rules) != 1 || first.Rules[0] != (limit.Rule{Subject: "t:7", RPM: 5}) {
		t.Fatalf("token rules: %+v", first)
	}
	if again := tok.LimitCall(lim, owner, "default", model.Limits{}); again != first {
		t.Fatal("the same limits built a second Call")
	}
	grouped := tok.LimitCall(lim, owner, "default", model.Limits{TPMLimit: 900})
	if grouped == first || len(grouped.Rules) != 2 || grouped.Rules[1] != (limit.Rule{Subject: "g:default", TPM: 900}) {
		t.Fatalf("after the group's limits changed: %+v", grouped)
	}
	replaced := &model.CachedUser{ID: 3, Limits: model.Limits{MaxParallelRequests: 2}}
	if c := tok.LimitCall(lim, replaced, "default", model.Limits{TPMLimit: 900}); len(c.Rules) != 3 || c.Rules[1] != (limit.Rule{Subject: "u:3", Parallel: 2}) {
		t.Fatalf("after the owner was replaced: %+v", c)
	}
	free := &model.CachedToken{ID: 8}
	if c := free.LimitCall(lim, owner, "default", model.Limits{}); c != nil {
		t.Fatalf("nothing limits the call, yet %+v", c)
	}
}
