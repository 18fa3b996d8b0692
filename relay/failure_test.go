package relay

import (
	"context"
	"errors"
	"strings"
	"testing"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/openai"
)

func TestClassifyUpstream(t *testing.T) {
	tests := []struct {
		name                     string
		status                   int
		body                     string
		retry, disable, penalize bool
		clientStatus             int
	}{
		{"401 invalid key disables", 401, `{"error":{"message":"Incorrect API key provided: sk-abc***xyz","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`, true, true, true, 502},
		{"429 insufficient quota disables", 429, `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`, true, true, true, 502},
		{"403 account deactivated disables", 403, `{"error":{"message":"Your account has been deactivated","type":"invalid_request_error","code":"account_deactivated"}}`, true, true, true, 502},
		{"403 other retries without disabling", 403, `{"error":{"message":"region not supported","type":"permission_error","code":"unsupported_country"}}`, true, false, true, 502},
		{"429 rate limit retries", 429, `{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}`, true, false, true, 429},
		{"500 retries", 500, `{"error":{"message":"server error","type":"server_error"}}`, true, false, true, 500},
		{"503 plain text retries", 503, `Service Unavailable`, true, false, true, 503},
		{"404 unknown model retries elsewhere", 404, `{"error":{"message":"The model does not exist","type":"invalid_request_error","code":"model_not_found"}}`, true, false, true, 404},
		{"400 bad request is the client's", 400, `{"error":{"message":"messages is required","type":"invalid_request_error","param":"messages","code":null}}`, false, false, false, 400},
		{"400 invalid key phrased in message disables", 400, `{"error":{"message":"API key not valid. Please pass a valid API key."}}`, true, true, true, 502},
		{"407 is the channel's proxy, not the request", 407, `<html><body>Proxy Authentication Required</body></html>`, true, false, true, 502},
		{"413 too large is the client's", 413, `{"error":{"message":"too large"}}`, false, false, false, 413},
		{"422 is the client's", 422, `{"detail":"bad"}`, false, false, false, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ue := openai.Adaptor{}.ParseError(tt.status, nil, []byte(tt.body))
			f := classifyUpstream(ue, "sk-channel-key")
			if f.retry != tt.retry || f.disable != tt.disable || f.penalize != tt.penalize || f.err.Status != tt.clientStatus {
				t.Fatalf("got retry=%v disable=%v penalize=%v status=%d; want %v %v %v %d",
					f.retry, f.disable, f.penalize, f.err.Status, tt.retry, tt.disable, tt.penalize, tt.clientStatus)
			}
			if tt.clientStatus == 502 && f.err.Message == ue.Message {
				t.Fatalf("credential failure leaked the upstream message %q", ue.Message)
			}
		})
	}
}

func TestClassifyTransport(t *testing.T) {
	ctx := context.Background()
	t.Run("timeout is 504 and retried", func(t *testing.T) {
		actx, cancel := context.WithCancelCause(ctx)
		cancel(errAttemptTimeout)
		f := classifyTransport(ctx, actx, context.Canceled)
		if f.err.Status != 504 || !f.retry {
			t.Fatalf("%+v", f)
		}
	})
	t.Run("client gone is 499, not retried, not penalized", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		f := classifyTransport(cctx, cctx, context.Canceled)
		if f.err.Status != 499 || f.retry || f.penalize || !f.clientGone {
			t.Fatalf("%+v", f)
		}
	})
	t.Run("connect error is 502 and retried", func(t *testing.T) {
		f := classifyTransport(ctx, ctx, errors.New("connection refused"))
		if f.err.Status != 502 || !f.retry || !f.penalize {
			t.Fatalf("%+v", f)
		}
	})
}

// Every Class means the same for every provider.
func TestClassMapsOnceForEveryProvider(t *testing.T) {
	for _, tt := range []struct {
		class                    adaptor.Class
		status                   int
		retry, disable, penalize bool
		clientStatus             int
	}{
		{adaptor.ClassDeadKey, 401, true, true, true, 502},
		{adaptor.ClassAuth, 403, true, false, true, 502},
		{adaptor.ClassRateLimited, 429, true, false, true, 429},
		{adaptor.ClassRequest, 400, false, false, false, 400},
		{adaptor.ClassRequest, 200, false, false, false, 400},
		{adaptor.ClassContentFilter, 400, false, false, false, 400},
		{adaptor.ClassUnsupported, 404, true, false, false, 400},
		{adaptor.ClassNotFound, 404, true, false, true, 404},
		{adaptor.ClassUpstream, 529, true, false, true, 503},
		{adaptor.ClassUpstream, 503, true, false, true, 503},
		{adaptor.ClassUpstream, 408, true, false, true, 504},
		{adaptor.ClassUpstream, 302, true, false, true, 502},
	} {
		t.Run(tt.class.String(), func(t *testing.T) {
			f := classifyUpstream(&adaptor.UpstreamError{Status: tt.status, Class: tt.class, Message: "m"}, "")
			if f.retry != tt.retry || f.disable != tt.disable || f.penalize != tt.penalize || f.err.Status != tt.clientStatus {
				t.Fatalf("got retry=%v disable=%v penalize=%v status=%d", f.retry, f.disable, f.penalize, f.err.Status)
			}
		})
	}
}

// No upstream message carries the channel's key, or anything shaped like
// a key, to a client, whatever the status.
func TestUpstreamMessagesAreScrubbedOfKeys(t *testing.T) {
	key := "sk-live-0123456789abcdefghij"
	for _, msg := range []string{
		"Incorrect API key provided: " + key + ".",
		"Incorrect API key provided: sk-abc***wxyz. You can find your API key at https://platform.openai.com.",
		"key " + key + " is over its limit",
		"invalid x-api-key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
		"API key not valid: AIzaSyA1234567890abcdefghijklmnop",
		"Authorization: Bearer abc.def.ghi rejected",
		"token 0123456789abcdef0123456789abcdef0123 expired",
	} {
		for _, status := range []int{400, 401, 403, 404, 413, 429, 500, 503} {
			for _, class := range []adaptor.Class{adaptor.ClassRequest, adaptor.ClassUpstream, adaptor.ClassRateLimited, adaptor.ClassNotFound, adaptor.ClassContentFilter, adaptor.ClassUnsupported} {
				f := classifyUpstream(&adaptor.UpstreamError{Status: status, Class: class, Message: msg, Code: msg}, key)
				out := f.err.Message + f.err.Code + f.err.Error()
				for _, leak := range []string{key, "sk-abc***wxyz", "AbCdEfGhIjKlMnOp", "AIzaSyA123", "abc.def.ghi", "0123456789abcdef0123"} {
					if strings.Contains(out, leak) {
						t.Fatalf("status %d class %v leaked %q: %q", status, class, leak, out)
					}
				}
			}
		}
	}
	if got := scrub("The model `gpt-4o` does not exist or you do not have access to it.", key); got != "The model `gpt-4o` does not exist or you do not have access to it." {
		t.Fatalf("prose was scrubbed: %q", got)
	}
}
