package relay

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
)

// failure is one attempt's failure, judged: what the client should see if
// it is the last, whether another channel may do better, and what it says
// about the channel.
type failure struct {
	err *errs.Error
	// retry: another channel may succeed where this one failed.
	retry bool
	// disable: the channel is dead (bad key, no quota, deactivated).
	disable bool
	// penalize: the failure counts toward the channel's cooldown.
	penalize bool
	// clientGone: the client left; nothing is held against the upstream.
	clientGone bool
}

func (f *failure) Error() string { return f.err.Error() }

// Codes and phrases by which OpenAI-compatible upstreams say a channel is
// dead rather than busy.
var deadCodes = map[string]bool{
	"invalid_api_key":       true,
	"insufficient_quota":    true,
	"account_deactivated":   true,
	"billing_not_active":    true,
	"authentication_error":  true,
	"permission_error":      false,
	"organization_disabled": true,
}

var deadPhrases = []string{
	"incorrect api key",
	"invalid api key",
	"api key not valid",
	"account deactivated",
	"account has been deactivated",
	"organization has been disabled",
	"exceeded your current quota",
	"credit balance is too low",
}

func isDead(e *adaptor.UpstreamError) bool {
	if deadCodes[e.Code] || deadCodes[e.Type] {
		return true
	}
	msg := strings.ToLower(e.Message)
	for _, p := range deadPhrases {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// classifyUpstream judges a non-2xx upstream reply. The table test in
// failure_test.go pins every row.
func classifyUpstream(e *adaptor.UpstreamError) *failure {
	dead := isDead(e)
	switch {
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden || dead:
		// The client's request is fine; this channel's account is not.
		// Upstream messages about keys echo part of the key: never pass
		// them on.
		return &failure{
			err:      &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Code: "upstream_auth_failed", Message: "the upstream refused this channel's credentials"},
			retry:    true,
			disable:  dead || e.Status == http.StatusUnauthorized,
			penalize: true,
		}
	case e.Status == http.StatusTooManyRequests:
		return &failure{err: upstreamErr(http.StatusTooManyRequests, errs.KindRateLimit, e), retry: true, penalize: true}
	case e.Status == http.StatusRequestTimeout:
		return &failure{err: upstreamErr(http.StatusGatewayTimeout, errs.KindUpstream, e), retry: true, penalize: true}
	case e.Status == http.StatusNotFound:
		// The channel does not know the model (or the base URL is wrong):
		// a configuration fault another channel may not share.
		return &failure{err: upstreamErr(http.StatusNotFound, errs.KindNotFound, e), retry: true, penalize: true}
	case e.Status >= 500:
		return &failure{err: upstreamErr(e.Status, errs.KindUpstream, e), retry: true, penalize: true}
	case e.Status >= 400:
		// 400, 413, 422 and the rest: the request itself is at fault, and
		// every channel would say the same.
		return &failure{err: upstreamErr(e.Status, errs.KindInvalidRequest, e)}
	default:
		return &failure{err: upstreamErr(http.StatusBadGateway, errs.KindUpstream, e), retry: true, penalize: true}
	}
}

func upstreamErr(status int, kind errs.Kind, e *adaptor.UpstreamError) *errs.Error {
	return &errs.Error{Status: status, Kind: kind, Code: e.Code, Param: e.Param, Message: e.Message}
}

// errAttemptTimeout cancels an attempt that passed RELAY_TIMEOUT before the
// upstream answered.
var errAttemptTimeout = errors.New("upstream did not answer within RELAY_TIMEOUT")

// classifyTransport judges an attempt that got no reply at all.
func classifyTransport(ctx context.Context, attemptCtx context.Context, err error) *failure {
	if ctx.Err() != nil {
		return clientGone()
	}
	if errors.Is(context.Cause(attemptCtx), errAttemptTimeout) {
		return &failure{err: &errs.Error{Status: http.StatusGatewayTimeout, Kind: errs.KindUpstream, Code: "upstream_timeout", Message: "the upstream did not answer in time"}, retry: true, penalize: true}
	}
	return &failure{err: &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Code: "upstream_unreachable", Message: "the upstream could not be reached", Err: err}, retry: true, penalize: true}
}

// clientGone is the failure of a call whose client left: status 499, as
// nginx and Caddy log it; nobody reads the reply.
func clientGone() *failure {
	return &failure{err: &errs.Error{Status: 499, Kind: errs.KindInvalidRequest, Message: "client closed the request"}, clientGone: true}
}

// streamCut is an upstream that broke off before its answer was whole.
func streamCut(err error) *failure {
	return &failure{err: &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Code: "upstream_stream_cut", Message: "the upstream broke off its answer", Err: err}, retry: true, penalize: true}
}
