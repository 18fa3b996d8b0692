package model

import (
	"strings"
	"testing"
)

// TestQuotaNoticeSaysLowOrUsedUp pins the notice's two wordings and the
// amount it shows, never below zero.
func TestQuotaNoticeSaysLowOrUsedUp(t *testing.T) {
	snap := &OptionSnapshot{raw: map[string]string{"SystemName": "Relay", "QuotaPerUnit": "500000", "ServerAddress": "https://r.example"}}
	low := quotaNotice(snap, User{Email: "a@example.com", Quota: 250_000})
	if low.To != "a@example.com" || low.Subject != "Relay: your quota is running low" || !strings.Contains(low.Body, "250000 (about $0.50) left") || !strings.Contains(low.Body, "https://r.example/topup") {
		t.Fatalf("low: %+v", low)
	}
	out := quotaNotice(snap, User{Email: "a@example.com", Quota: -3})
	if out.Subject != "Relay: your quota is used up" || !strings.Contains(out.Body, ": 0 (about $0.00) left") {
		t.Fatalf("used up: %+v", out)
	}
}
