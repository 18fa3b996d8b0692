package fakeupstream

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
)

// StartAzure runs a fake Azure OpenAI upstream
// (https://learn.microsoft.com/azure/ai-services/openai/reference):
// POST /openai/deployments/{deployment}/{chat/completions, completions,
// embeddings, images/generations, audio/...}?api-version=..., the key in
// an api-key header, OpenAI's bodies and streams, Azure's 401 and 404
// bodies, and its content-filter error. deployments are the deployments
// that exist (any when empty).
func StartAzure(b Behavior, deployments ...string) *Server {
	s := &Server{}
	s.Set(b)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveAzure(w, r, deployments) }))
	return s
}

// azureError writes Azure's error body: OpenAI's shape with Azure's codes.
func azureError(w http.ResponseWriter, status int, code, msg string, inner any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("apim-request-id", "fake-apim-id")
	w.WriteHeader(status)
	e := map[string]any{"code": code, "message": msg}
	if inner != nil {
		e["param"], e["type"], e["status"], e["innererror"] = "prompt", nil, status, inner
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"error": e})
}

func (s *Server) serveAzure(w http.ResponseWriter, r *http.Request, deployments []string) {
	b := s.Behavior()
	body := s.record(r)
	if v1, ok := strings.CutPrefix(r.URL.Path, "/openai/v1/"); ok && strings.HasPrefix(v1, "responses") {
		s.azureResponses(w, r, b, body, deployments, "/v1/"+v1)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/openai/deployments/")
	deployment, op, _ := strings.Cut(rest, "/")
	if !ok || deployment == "" {
		azureError(w, 404, "404", "Resource not found", nil)
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		azureError(w, 404, "404", "Resource not found", nil)
		return
	}
	if b.Key != "" && r.Header.Get("api-key") != b.Key {
		azureError(w, 401, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.", nil)
		return
	}
	if len(deployments) > 0 {
		found := false
		for _, d := range deployments {
			found = found || d == deployment
		}
		if !found {
			azureError(w, 404, "DeploymentNotFound", "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.", nil)
			return
		}
	}
	if b.ContentFilter {
		azureError(w, 400, "content_filter", "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
			map[string]any{"code": "ResponsibleAIPolicyViolation", "content_filter_result": map[string]any{
				"hate": map[string]any{"filtered": false, "severity": "safe"}, "self_harm": map[string]any{"filtered": false, "severity": "safe"},
				"sexual": map[string]any{"filtered": false, "severity": "safe"}, "violence": map[string]any{"filtered": true, "severity": "high"}}})
		return
	}
	if op == "moderations" {
		azureError(w, 404, "404", "Resource not found", nil)
		return
	}
	s.openAI(w, r, b, body, r.Header.Get("api-key"), "/v1/"+op)
}
