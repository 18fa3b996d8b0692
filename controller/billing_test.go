package controller_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchyard/internal/fakeupstream"
	"switchyard/internal/testkit"
	"switchyard/model"
)

// billingReply is what a chat client reads from the two billing endpoints.
type billingReply struct {
	Object      string  `json:"object"`
	HasPayment  bool    `json:"has_payment_method"`
	Soft        float64 `json:"soft_limit_usd"`
	Hard        float64 `json:"hard_limit_usd"`
	System      float64 `json:"system_hard_limit_usd"`
	AccessUntil int64   `json:"access_until"`
	TotalUsage  float64 `json:"total_usage"`
}

// billing calls GET <prefix>/dashboard/billing/subscription and .../usage
// with key, as NextChat does (with its date range, which is ignored).
func billing(t *testing.T, app *testkit.App, prefix, key string) billingReply {
	t.Helper()
	var out billingReply
	for _, p := range []string{"subscription", "usage?start_date=2026-12-01&end_date=2026-12-31"} {
		status, body := rawCall(t, "GET", app.URL+prefix+"/dashboard/billing/"+p, "", map[string]string{"Authorization": "Bearer " + key})
		if status != 200 {
			t.Fatalf("%s/dashboard/billing/%s: %d %s", prefix, p, status, body)
		}
		var r billingReply
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if strings.HasPrefix(p, "subscription") {
			if r.Object != "billing_subscription" || !r.HasPayment || r.Soft != r.Hard || r.System != r.Hard {
				t.Fatalf("subscription %s", body)
			}
			out.Object, out.HasPayment, out.Soft, out.Hard, out.System, out.AccessUntil = r.Object, true, r.Soft, r.Hard, r.System, r.AccessUntil
			continue
		}
		if r.Object != "list" {
			t.Fatalf("usage %s", body)
		}
		out.TotalUsage = r.TotalUsage
	}
	return out
}

// want checks a reply against used and left quota units, in dollars at
// perUnit units each (perUnit 1: raw units).
func (r billingReply) want(t *testing.T, what string, used, left int64, perUnit float64) {
	t.Helper()
	near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }
	if !near(r.Hard, float64(used+left)/perUnit) || !near(r.TotalUsage, float64(used)*100/perUnit) {
		t.Fatalf("%s: hard_limit_usd %v, total_usage %v; want used %d + left %d at %v a unit (%v, %v)",
			what, r.Hard, r.TotalUsage, used, left, perUnit, float64(used+left)/perUnit, float64(used)*100/perUnit)
	}
	// What a client shows as the balance is what the relay lets it spend.
	if !near(r.Hard-r.TotalUsage/100, float64(left)/perUnit) {
		t.Fatalf("%s: balance %v, want %v", what, r.Hard-r.TotalUsage/100, float64(left)/perUnit)
	}
}

// TestBillingEndpointsShowWhatAKeyCanSpend pins OpenAI's retired billing
// endpoints, which chat clients read for a key's balance: with and
// without /v1, hard_limit_usd minus total_usage/100 is what the key can
// still spend (its own remainder capped by its owner's), by token or by
// owner as DisplayTokenStatEnabled says, in dollars or raw units as
// DisplayInCurrencyEnabled says.
func TestBillingEndpointsShowWhatAKeyCanSpend(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		up := fakeupstream.Start(fakeupstream.Behavior{})
		defer up.Close()
		until := time.Now().Add(48 * time.Hour).Unix()
		f := newRelayFixture(t, app, 10_000_000, map[string]any{"name": "limited", "remain_quota": 1_000_000, "expired_time": until})
		f.channel(t, map[string]any{"name": "up", "base_url": up.URL, "models": "gpt-4o-mini"})
		const perUnit = 500_000 // QuotaPerUnit's default

		fresh := billing(t, app, "/v1", f.tok.Key)
		fresh.want(t, "fresh token", 0, 1_000_000, perUnit)
		if fresh.Hard != 2 || fresh.TotalUsage != 0 || fresh.AccessUntil != until {
			t.Fatalf("fresh token: %+v, want $2, nothing used, access until %d", fresh, until)
		}

		for i := 0; i < 3; i++ {
			if _, err := f.client(f.tok.Key).Chat.Completions.New(context.Background(), chat("gpt-4o-mini")); err != nil {
				t.Fatal(err)
			}
		}
		app.Settle(t)
		row := tokenRow(t, f.user, f.tok.ID)
		if row.UsedQuota <= 0 {
			t.Fatalf("three calls used nothing: %+v", row.Token)
		}
		for _, prefix := range []string{"/v1", ""} {
			billing(t, app, prefix, f.tok.Key).want(t, "after three calls at "+prefix+"/dashboard", row.UsedQuota, row.RemainQuota, perUnit)
		}

		// The owner has less than the token: the owner's remainder is the cap.
		f.root.Do("PUT", "/api/user/", map[string]any{"id": f.user.UserID, "quota": 300_000}).Want(t, 200, true)
		billing(t, app, "/v1", f.tok.Key).want(t, "owner below the token", row.UsedQuota, 300_000, perUnit)

		// An unlimited token can spend what its owner has.
		var unlimited tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "unlimited", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &unlimited)
		u := billing(t, app, "/v1", unlimited.Key)
		u.want(t, "unlimited token", 0, 300_000, perUnit)
		if u.AccessUntil != 0 {
			t.Fatalf("a token that never expires: access_until %d", u.AccessUntil)
		}

		// Another user's key shows that user's figures, never these.
		other := newRelayFixture(t, app, 42_000, map[string]any{"name": "other", "remain_quota": 7_000})
		billing(t, app, "/v1", other.tok.Key).want(t, "another user's token", 0, 7_000, perUnit)

		// By owner: the user's own used quota and remainder.
		f.option(t, "DisplayTokenStatEnabled", "false")
		var owner struct {
			Quota     int64 `json:"quota"`
			UsedQuota int64 `json:"used_quota"`
		}
		f.root.Do("GET", "/api/user/"+strconv.Itoa(f.user.UserID), nil).Want(t, 200, true).Decode(t, &owner)
		if owner.Quota != 300_000 || owner.UsedQuota != row.UsedQuota {
			t.Fatalf("owner %+v, want quota 300000 and used %d", owner, row.UsedQuota)
		}
		billing(t, app, "", f.tok.Key).want(t, "by owner", owner.UsedQuota, owner.Quota, perUnit)

		// In raw units, the pair still subtracts to the balance.
		f.option(t, "DisplayTokenStatEnabled", "true")
		f.option(t, "DisplayInCurrencyEnabled", "false")
		billing(t, app, "/v1", f.tok.Key).want(t, "raw units", row.UsedQuota, 300_000, 1)
		f.option(t, "DisplayInCurrencyEnabled", "true")
		f.option(t, "QuotaPerUnit", "1000")
		billing(t, app, "/v1", f.tok.Key).want(t, "QuotaPerUnit 1000", row.UsedQuota, 300_000, 1000)
	})
}

// TestBillingEndpointsRefuseWhomTheRelayRefuses: the billing endpoints
// authenticate as /v1 does and answer in OpenAI's error shape, except
// that a token with nothing left is answered; bad input in the query
// changes nothing, and a write method is not a route.
func TestBillingEndpointsRefuseWhomTheRelayRefuses(t *testing.T) {
	testkit.ForEachDB(t, nil, func(t *testing.T, app *testkit.App) {
		f := newRelayFixture(t, app, 1_000_000, map[string]any{"name": "limited", "remain_quota": 5_000})
		var disabled, empty tokenReply
		f.user.Do("POST", "/api/token/", map[string]any{"name": "disabled", "unlimited_quota": true}).Want(t, 200, true).Decode(t, &disabled)
		f.user.Do("PUT", "/api/token/?status_only=true", map[string]any{"id": disabled.ID, "status": model.TokenDisabled}).Want(t, 200, true)
		f.user.Do("POST", "/api/token/", map[string]any{"name": "empty", "remain_quota": 0}).Want(t, 200, true).Decode(t, &empty)

		for _, prefix := range []string{"/v1", ""} {
			for _, p := range []string{"/dashboard/billing/subscription", "/dashboard/billing/usage"} {
				for _, tc := range []struct {
					name   string
					auth   string
					status int
					code   string
				}{
					{"anonymous", "", 401, "invalid_api_key"},
					{"not a key", "Bearer sk-' OR 1=1 --", 401, "invalid_api_key"},
					{"unicode", "Bearer sk-令牌💥", 401, "invalid_api_key"},
					{"oversized", "Bearer sk-" + strings.Repeat("a", 64<<10), 401, "invalid_api_key"},
					{"disabled token", "Bearer " + disabled.Key, 401, "token_disabled"},
				} {
					h := map[string]string{}
					if tc.auth != "" {
						h["Authorization"] = tc.auth
					}
					status, body := rawCall(t, "GET", app.URL+prefix+p, "", h)
					var e struct {
						Error struct {
							Message string `json:"message"`
							Code    string `json:"code"`
						} `json:"error"`
					}
					if status != tc.status || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != tc.code || e.Error.Message == "" {
						t.Fatalf("%s %s%s: %d %.300s, want %d %s", tc.name, prefix, p, status, body, tc.status, tc.code)
					}
				}
				// Garbage in the query is ignored, as the date range is.
				status, body := rawCall(t, "GET", app.URL+prefix+p+"?start_date=%27%3BDROP%20TABLE%20tokens%3B--&end_date=%F0%9F%92%A5&x="+strings.Repeat("z", 4000), "",
					map[string]string{"Authorization": "Bearer " + f.tok.Key})
				if status != 200 {
					t.Fatalf("%s%s with garbage in the query: %d %s", prefix, p, status, body)
				}
			}
		}
		status, body := rawCall(t, "POST", app.URL+"/v1/dashboard/billing/usage", `{"total_usage":0}`, map[string]string{"Authorization": "Bearer " + f.tok.Key})
		if status != http.StatusNotFound || !strings.Contains(body, `"error":{`) {
			t.Fatalf("POST usage: %d %s", status, body)
		}
		billing(t, app, "/v1", f.tok.Key).want(t, "after all that", 0, 5_000, 500_000)
		// A token with nothing left is told so: its balance is 0, not a refusal.
		billing(t, app, "", empty.Key).want(t, "empty token", 0, 0, 500_000)
	})
}
