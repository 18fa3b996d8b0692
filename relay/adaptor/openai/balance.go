package openai

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"switchyard/common/channeltype"
	"switchyard/relay/adaptor"
)

// Balance implements adaptor.Balancer for the vendor's balance style:
// OpenAI's legacy billing endpoints (which OpenAI-style proxies still
// serve), OpenRouter's credits, DeepSeek's and SiliconFlow's user info.
func (Adaptor) Balance(ctx context.Context, client *http.Client, up *adaptor.Upstream) (float64, error) {
	switch up.Vendor.Balance {
	case channeltype.BalanceOpenAI:
		return openAIBalance(ctx, client, up)
	case channeltype.BalanceOpenRouter:
		var v struct {
			Data struct {
				TotalCredits float64 `json:"total_credits"`
				TotalUsage   float64 `json:"total_usage"`
			} `json:"data"`
		}
		err := getJSON(ctx, client, up, URL(up.BaseURL, "/v1/credits"), &v)
		return v.Data.TotalCredits - v.Data.TotalUsage, err
	case channeltype.BalanceDeepSeek:
		var v struct {
			BalanceInfos []struct {
				Currency     string `json:"currency"`
				TotalBalance string `json:"total_balance"`
			} `json:"balance_infos"`
		}
		if err := getJSON(ctx, client, up, strings.TrimRight(up.BaseURL, "/")+"/user/balance", &v); err != nil {
			return 0, err
		}
		var bal float64
		for _, b := range v.BalanceInfos {
			if b.Currency == "USD" {
				_, _ = fmt.Sscan(b.TotalBalance, &bal)
			}
		}
		return bal, nil
	case channeltype.BalanceSiliconFlow:
		var v struct {
			Data struct {
				TotalBalance string `json:"totalBalance"`
			} `json:"data"`
		}
		if err := getJSON(ctx, client, up, URL(up.BaseURL, "/v1/user/info"), &v); err != nil {
			return 0, err
		}
		var bal float64
		_, _ = fmt.Sscan(v.Data.TotalBalance, &bal)
		return bal, nil
	}
	return 0, adaptor.ErrNoBalance
}

// openAIBalance is the hard limit minus this month's usage.
func openAIBalance(ctx context.Context, client *http.Client, up *adaptor.Upstream) (float64, error) {
	var sub struct {
		HardLimitUSD float64 `json:"hard_limit_usd"`
	}
	if err := getJSON(ctx, client, up, URL(up.BaseURL, "/v1/dashboard/billing/subscription"), &sub); err != nil {
		return 0, err
	}
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	var usage struct {
		TotalUsage float64 `json:"total_usage"` // cents
	}
	u := URL(up.BaseURL, "/v1/dashboard/billing/usage") + "?start_date=" + start.Format("2006-01-02") + "&end_date=" + now.AddDate(0, 0, 1).Format("2006-01-02")
	if err := getJSON(ctx, client, up, u, &usage); err != nil {
		return 0, err
	}
	return sub.HardLimitUSD - usage.TotalUsage/100, nil
}

// getJSON reads url into dst. A non-200 reply comes back as a classified
// *adaptor.UpstreamError.
func getJSON(ctx context.Context, client *http.Client, up *adaptor.Upstream, url string, dst any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	Authorize(req, up.Vendor, up.Key)
	req = adaptor.ForChannel(req, up)
	return adaptor.FetchJSON(client, req, Adaptor{}, 1<<20, dst, adaptor.ErrBadBalance)
}
