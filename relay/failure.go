package relay

import (
	"context"
	"errors"
	"net/http"
	"regexp"
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

// classifyUpstream maps a classified upstream error onto what the engine
// does, the same for every provider: each provider package decides the
// Class through its own table; this is the one place that decides what a
// Class means. key is the attempt's channel key, scrubbed from any message.
func classifyUpstream(e *adaptor.UpstreamError, key string) *failure {
	if e.Status == http.StatusProxyAuthRequired {
		// Whatever the adaptor's table makes of the body: only a proxy
		// answers 407.
		return proxyRefused()
	}
	switch e.Class {
	case adaptor.ClassDeadKey, adaptor.ClassAuth:
		// The client's request is fine; this channel's account is not.
		// Upstream messages about keys echo part of the key: never pass
		// them on.
		return &failure{
			err:      &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Code: "upstream_auth_failed", Message: "the upstream refused this channel's credentials"},
			retry:    true,
			disable:  e.Class == adaptor.ClassDeadKey,
			penalize: true,
		}
	case adaptor.ClassRateLimited:
		return &failure{err: upstreamErr(http.StatusTooManyRequests, errs.KindRateLimit, e, key), retry: true, penalize: true}
	case adaptor.ClassRequest:
		// 400, 413, 422 and the rest: the request itself is at fault, and
		// every channel would say the same.
		status := e.Status
		if status < 400 || status > 499 {
			status = http.StatusBadRequest
		}
		return &failure{err: upstreamErr(status, errs.KindInvalidRequest, e, key)}
	case adaptor.ClassContentFilter:
		// The provider's safety system refused the content: a clear 400,
		// not retried (another channel of the same provider would refuse
		// too) and not held against the channel.
		ee := upstreamErr(http.StatusBadRequest, errs.KindInvalidRequest, e, key)
		ee.Code = "content_filter"
		return &failure{err: ee}
	case adaptor.ClassUnsupported:
		// This channel lacks the endpoint or the mode: the next one may
		// have it, and this one is not at fault.
		return &failure{err: upstreamErr(http.StatusBadRequest, errs.KindInvalidRequest, e, key), retry: true}
	case adaptor.ClassNotFound:
		// The channel does not know the model (or the base URL is wrong):
		// a configuration fault another channel may not share.
		return &failure{err: upstreamErr(http.StatusNotFound, errs.KindNotFound, e, key), retry: true, penalize: true}
	}
	status := e.Status
	switch {
	case status == http.StatusRequestTimeout:
		status = http.StatusGatewayTimeout
	case status == 529:
		// Anthropic's "overloaded": not a status OpenAI clients know.
		status = http.StatusServiceUnavailable
	case status < 500 || status > 599:
		// A 3xx (redirects are never followed), a 2xx that is not an
		// answer, or a 4xx the provider calls a server fault.
		status = http.StatusBadGateway
	}
	return &failure{err: upstreamErr(status, errs.KindUpstream, e, key), retry: true, penalize: true}
}

func upstreamErr(status int, kind errs.Kind, e *adaptor.UpstreamError, key string) *errs.Error {
	return &errs.Error{Status: status, Kind: kind, Code: scrub(e.Code, key), Param: scrub(e.Param, key), Message: scrub(e.Message, key)}
}

// keyShaped matches what looks like a credential: the vendors' key
// prefixes (sk-, sk-ant-, sk-or-, xai-, gsk_, AIza..., Bearer tokens),
// masked forms such as "sk-abc***xyz", and long unbroken runs of key
// alphabet that no prose contains.
var keyShaped = regexp.MustCompile(`(?i)\b(?:sk|pk|rk|ak|xai|gsk|key)[-_][A-Za-z0-9_\-*.]{3,}|\bAIza[0-9A-Za-z_\-]{10,}|\bBearer\s+\S+|[A-Za-z0-9_\-+/=]{32,}`)

// scrub removes the channel's key, and anything key-shaped, from an
// upstream message before it reaches a client or a log line.
func scrub(msg, key string) string {
	if msg == "" {
		return msg
	}
	if len(key) >= 4 {
		msg = strings.ReplaceAll(msg, key, "[redacted]")
	}
	return keyShaped.ReplaceAllString(msg, "[redacted]")
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

// proxyRefused is a 407: only a proxy answers it (RFC 9110 15.5.8), so
// the channel's proxy (or the environment's) refused its credentials. The
// request is fine and the key may be too: retried elsewhere, the channel
// penalized, nothing disabled.
func proxyRefused() *failure {
	return &failure{err: &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Code: "proxy_auth_failed", Message: "the channel's proxy refused its credentials"}, retry: true, penalize: true}
}

// notAnswer is a 2xx whose body does not parse in the channel's format: a
// failed attempt, retried elsewhere and not billed.
func notAnswer(err error) *failure {
	return &failure{err: &errs.Error{Status: http.StatusBadGateway, Kind: errs.KindUpstream, Code: "upstream_bad_answer", Message: "the upstream's answer could not be read", Err: err}, retry: true, penalize: true}
}
