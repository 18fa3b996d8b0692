package errs

import "net/http"

// GeminiStatus is Google's canonical status name for e, as the Gemini
// API's error bodies carry it beside the HTTP code.
func GeminiStatus(e *Error) string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case e.Status == http.StatusForbidden:
		return "PERMISSION_DENIED"
	case e.Status == http.StatusNotFound:
		return "NOT_FOUND"
	case e.Status == http.StatusTooManyRequests:
		return "RESOURCE_EXHAUSTED"
	case e.Status == 499:
		return "CANCELLED"
	case e.Status == http.StatusNotImplemented:
		return "UNIMPLEMENTED"
	case e.Status == http.StatusServiceUnavailable:
		return "UNAVAILABLE"
	case e.Status == http.StatusGatewayTimeout:
		return "DEADLINE_EXCEEDED"
	case e.Status >= 500:
		return "INTERNAL"
	case e.Status == http.StatusRequestEntityTooLarge:
		return "INVALID_ARGUMENT"
	case e.Status == http.StatusConflict:
		return "ABORTED"
	}
	return "INVALID_ARGUMENT"
}

// geminiBody is Google's error body: {"error": {"code", "message", "status"}}.
func geminiBody(e *Error, msg string) map[string]any {
	return map[string]any{"error": map[string]any{"code": e.Status, "message": msg, "status": GeminiStatus(e)}}
}
