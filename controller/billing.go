package controller

import (
	"github.com/gin-gonic/gin"

	"switchyard/middleware"
)

// OpenAI's retired billing endpoints, which chat clients (NextChat,
// LobeChat, balance checkers) still call with an API key to show what it
// has left: GET /v1/dashboard/billing/subscription and .../usage, and the
// same paths without /v1, as One API serves them. A client shows the
// balance as hard_limit_usd - total_usage/100, so the two answers are
// one pair of figures:
//
//   - subscription's limits are what the key has used plus what it can
//     still spend; usage's total_usage is what it has used, in cents.
//   - DisplayTokenStatEnabled (the default) reports the calling token's
//     figures; off, its owner's.
//   - DisplayInCurrencyEnabled (the default) reports dollars (QuotaPerUnit
//     units make $1); off, raw quota units (usage still ×100, so the pair
//     still subtracts).
//
// Two departures from One API, both so the balance a client shows is the
// one the relay enforces: a limited token's remainder is capped by what
// its owner has left, and an unlimited token reports its owner's
// remainder rather than One API's fixed $100,000,000. The start_date and
// end_date query parameters are ignored, as in One API: usage is the
// key's whole history, which is what makes the pair subtract to the
// balance.

// billingFigures is what the caller has used and can still spend, in
// quota units, and when its token expires (0: never).
type billingFigures struct {
	used, left, until int64
}

// billingOf reads the caller's figures as the ledger has them now.
func (h *Relay) billingOf(c *gin.Context) (billingFigures, error) {
	ctx := c.Request.Context()
	tok := middleware.TokenOf(c)
	owner, err := h.Store.UserByID(ctx, tok.UserID)
	if err != nil {
		return billingFigures{}, err
	}
	f := billingFigures{used: owner.UsedQuota, left: owner.Quota}
	if tok.ExpiredTime > 0 {
		f.until = tok.ExpiredTime
	}
	if h.Store.Options.Get().Bool("DisplayTokenStatEnabled") {
		row, err := h.Store.TokenOf(ctx, tok.UserID, tok.ID)
		if err != nil {
			return billingFigures{}, err
		}
		f.used = row.UsedQuota
		if !row.UnlimitedQuota {
			f.left = min(row.RemainQuota, owner.Quota)
		}
	}
	f.left = max(f.left, 0)
	return f, nil
}

// amount is quota in the unit the billing endpoints report.
func (h *Relay) amount(quota int64) float64 {
	snap := h.Store.Options.Get()
	if snap.Bool("DisplayInCurrencyEnabled") {
		return float64(quota) / snap.Float("QuotaPerUnit")
	}
	return float64(quota)
}

// billingSubscription is the subscription answer, in OpenAI's shape.
type billingSubscription struct {
	Object             string  `json:"object"`
	HasPaymentMethod   bool    `json:"has_payment_method"`
	SoftLimitUSD       float64 `json:"soft_limit_usd"`
	HardLimitUSD       float64 `json:"hard_limit_usd"`
	SystemHardLimitUSD float64 `json:"system_hard_limit_usd"`
	AccessUntil        int64   `json:"access_until"`
}

// BillingSubscription answers GET /v1/dashboard/billing/subscription.
func (h *Relay) BillingSubscription(c *gin.Context) error {
	f, err := h.billingOf(c)
	if err != nil {
		return err
	}
	limit := h.amount(f.used + f.left)
	c.JSON(200, billingSubscription{
		Object: "billing_subscription", HasPaymentMethod: true,
		SoftLimitUSD: limit, HardLimitUSD: limit, SystemHardLimitUSD: limit,
		AccessUntil: f.until,
	})
	return nil
}

// billingUsage is the usage answer, in OpenAI's shape.
type billingUsage struct {
	Object     string  `json:"object"`
	TotalUsage float64 `json:"total_usage"`
}

// BillingUsage answers GET /v1/dashboard/billing/usage.
func (h *Relay) BillingUsage(c *gin.Context) error {
	f, err := h.billingOf(c)
	if err != nil {
		return err
	}
	// Cents, scaled before the one division so that $0.25 reads 25, not
	// 25.000000000000004.
	c.JSON(200, billingUsage{Object: "list", TotalUsage: h.amount(f.used * 100)})
	return nil
}
