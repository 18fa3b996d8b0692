package relay

import (
	"context"
	"errors"
	"testing"

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
