package gemini

import (
	"net/http"
	"testing"
	"time"

	"switchyard/relay/adaptor"
)

func TestParseError(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		class  adaptor.Class
		retry  time.Duration
	}{
		{"a bad key is a 400 with reason API_KEY_INVALID", 400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`, adaptor.ClassDeadKey, 0},
		{"a bad key without details, by its words", 400, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}`, adaptor.ClassDeadKey, 0},
		{"a suspended consumer", 403, `{"error":{"code":403,"message":"Permission denied: Consumer 'api_key:AIza' has been suspended.","status":"PERMISSION_DENIED"}}`, adaptor.ClassDeadKey, 0},
		{"an expired OAuth token (Vertex)", 401, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`, adaptor.ClassDeadKey, 0},
		{"a project without the API enabled", 403, `{"error":{"code":403,"message":"Vertex AI API has not been used in project p before or it is disabled.","status":"PERMISSION_DENIED"}}`, adaptor.ClassDeadKey, 0},
		{"a permission on one resource", 403, `{"error":{"code":403,"message":"Permission 'aiplatform.endpoints.predict' denied on resource","status":"PERMISSION_DENIED"}}`, adaptor.ClassAuth, 0},
		{"an unsupported user location", 400, `{"error":{"code":400,"message":"User location is not supported for the API use.","status":"FAILED_PRECONDITION"}}`, adaptor.ClassAuth, 0},
		{"a quota is a rate limit, with its RetryInfo", 429, `{"error":{"code":429,"message":"You exceeded your current quota, please check your plan and billing details.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]}}`, adaptor.ClassRateLimited, 17 * time.Second},
		{"the request's own fault", 400, `{"error":{"code":400,"message":"* GenerateContentRequest.contents: contents is not specified","status":"INVALID_ARGUMENT"}}`, adaptor.ClassRequest, 0},
		{"an unknown model", 404, `{"error":{"code":404,"message":"models/x is not found for API version v1beta","status":"NOT_FOUND"}}`, adaptor.ClassNotFound, 0},
		{"overloaded", 503, `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`, adaptor.ClassUpstream, 0},
		{"internal", 500, `{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}`, adaptor.ClassUpstream, 0},
		{"a proxy's HTML page, by status", 502, `<html>Bad Gateway</html>`, adaptor.ClassUpstream, 0},
		{"an empty 429 with Retry-After", 429, ``, adaptor.ClassRateLimited, 3 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{}
			if c.body == "" {
				h.Set("Retry-After", "3")
			}
			e := ParseError(c.status, h, []byte(c.body))
			if e.Class != c.class || e.RetryAfter != c.retry || e.Status != c.status || e.Message == "" {
				t.Fatalf("got %+v (class %s), want class %s retry %s", e, e.Class, c.class, c.retry)
			}
		})
	}
}
