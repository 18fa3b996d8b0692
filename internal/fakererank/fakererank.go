// Package fakererank is a test rerank upstream in the three shapes the
// relay's rerank channels speak: Jina (POST /v1/rerank, usage.total_tokens),
// SiliconFlow (POST /v1/rerank, meta.tokens) and Cohere (POST /v2/rerank,
// meta.billed_units.search_units and no token count). Documents are scored
// by how many query words they contain.
package fakererank

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
)

// Styles of answer.
const (
	Jina        = "jina"
	SiliconFlow = "siliconflow"
	Cohere      = "cohere"
)

// Server is a running fake rerank API.
type Server struct {
	*httptest.Server
	Style string
	Key   string
	calls atomic.Int64
	last  atomic.Value
}

// Start runs a fake of style accepting only key ("" accepts any).
func Start(style, key string) *Server {
	s := &Server{Style: style, Key: key}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Calls counts rerank calls.
func (s *Server) Calls() int64 { return s.calls.Load() }

// LastBody is the last body received.
func (s *Server) LastBody() []byte { b, _ := s.last.Load().([]byte); return b }

func fail(w http.ResponseWriter, style string, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	switch style {
	case Jina:
		_ = json.NewEncoder(w).Encode(map[string]any{"detail": msg})
	case SiliconFlow:
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 20015, "message": msg, "data": nil})
	default:
		_ = json.NewEncoder(w).Encode(map[string]any{"message": msg})
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	want := "/v1/rerank"
	if s.Style == Cohere {
		want = "/v2/rerank"
	}
	if r.URL.Path != want || r.Method != http.MethodPost {
		fail(w, s.Style, 404, "no route "+r.URL.Path)
		return
	}
	s.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	s.last.Store(body)
	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		fail(w, s.Style, 401, "invalid api token")
		return
	}
	var q struct {
		Model           string            `json:"model"`
		Query           string            `json:"query"`
		Documents       []json.RawMessage `json:"documents"`
		TopN            int               `json:"top_n"`
		ReturnDocuments *bool             `json:"return_documents"`
	}
	if err := json.Unmarshal(body, &q); err != nil || q.Model == "" || q.Query == "" || len(q.Documents) == 0 {
		fail(w, s.Style, 400, "model, query and documents are required")
		return
	}
	type result struct {
		Index    int            `json:"index"`
		Score    float64        `json:"relevance_score"`
		Document map[string]any `json:"document,omitempty"`
	}
	words := strings.Fields(strings.ToLower(q.Query))
	tokens := len(words)
	results := make([]result, len(q.Documents))
	for i, raw := range q.Documents {
		var text string
		if json.Unmarshal(raw, &text) != nil {
			var d struct {
				Text string `json:"text"`
			}
			_ = json.Unmarshal(raw, &d)
			text = d.Text
		}
		tokens += len(strings.Fields(text))
		hits := 0
		for _, w := range words {
			if strings.Contains(strings.ToLower(text), w) {
				hits++
			}
		}
		results[i] = result{Index: i, Score: float64(hits) / float64(len(words)+1)}
		if q.ReturnDocuments == nil || *q.ReturnDocuments {
			results[i].Document = map[string]any{"text": text}
		}
	}
	sort.SliceStable(results, func(a, b int) bool { return results[a].Score > results[b].Score })
	if q.TopN > 0 && q.TopN < len(results) {
		results = results[:q.TopN]
	}
	out := map[string]any{"results": results}
	switch s.Style {
	case Jina:
		out["model"], out["usage"] = q.Model, map[string]int{"total_tokens": tokens}
	case SiliconFlow:
		out["id"] = "fake-rerank"
		out["meta"] = map[string]any{"billed_units": map[string]int{"input_tokens": tokens, "output_tokens": 0, "search_units": 0}, "tokens": map[string]int{"input_tokens": tokens, "output_tokens": 0}}
	default:
		out["id"] = "fake-rerank"
		out["meta"] = map[string]any{"api_version": map[string]string{"version": "2"}, "billed_units": map[string]int{"search_units": 1}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
