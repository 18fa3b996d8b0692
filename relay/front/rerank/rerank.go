// Package rerank is the rerank client front, POST /v1/rerank in the
// Cohere/Jina shape that new-api serves:
//
//	{"model", "query", "documents": [string | {"text"}], "top_n", "return_documents"}
//
// answered with {"results": [{"index", "relevance_score", "document"}], ...}.
// Cohere (35), Jina (38) and SiliconFlow (44) channels take the body as it
// is (only the model is mapped) and their answers come back untouched;
// billing uses the vendor's token count, or counts the query and
// documents when the vendor reports search units instead (Cohere). The
// body is the one OpenAI-compatible vendors serve, so the front reports
// FormatOpenAI and the OpenAI adaptor passes it through; adaptors of other
// formats refuse rerank before anything goes upstream.
package rerank

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"switchyard/common/errs"
	"switchyard/relay/adaptor"
	"switchyard/relay/front"
	openaifront "switchyard/relay/front/openai"
	"switchyard/relay/sse"
)

// Limits on a rerank call, Cohere's.
const (
	maxDocuments = 1000
	maxQuery     = 32 << 10
)

// Front is the rerank front. The zero value is ready.
type Front struct{}

// Format implements adaptor.Front.
func (Front) Format() adaptor.Format { return adaptor.FormatOpenAI }

type request struct {
	Model           string            `json:"model"`
	Query           *string           `json:"query"`
	Documents       []json.RawMessage `json:"documents"`
	TopN            *int              `json:"top_n"`
	ReturnDocuments *bool             `json:"return_documents"`
}

// Parse implements adaptor.Front.
func (Front) Parse(hr *http.Request, mode adaptor.Mode) (*adaptor.Request, error) {
	raw, err := front.ReadJSON(hr)
	if err != nil {
		return nil, err
	}
	return ParseRequest(raw)
}

// ParseRequest reads a rerank body.
func ParseRequest(raw []byte) (*adaptor.Request, error) {
	var in request
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, errs.BadRequest("the body is not a valid rerank request: %v", err)
	}
	if strings.TrimSpace(in.Model) == "" {
		return nil, errs.BadRequest("model is required").WithParam("model")
	}
	if in.Query == nil || strings.TrimSpace(*in.Query) == "" {
		return nil, errs.BadRequest("query is required").WithParam("query")
	}
	if len(*in.Query) > maxQuery {
		return nil, errs.BadRequest("query is longer than %d bytes", maxQuery).WithParam("query")
	}
	if len(in.Documents) == 0 {
		return nil, errs.BadRequest("documents must be a non-empty array").WithParam("documents")
	}
	if len(in.Documents) > maxDocuments {
		return nil, errs.BadRequest("documents may hold at most %d entries", maxDocuments).WithParam("documents")
	}
	if in.TopN != nil && *in.TopN < 0 {
		return nil, errs.BadRequest("top_n must not be negative").WithParam("top_n")
	}
	docs := make([]string, len(in.Documents))
	for i, d := range in.Documents {
		var s string
		if json.Unmarshal(d, &s) != nil {
			var obj struct {
				Text *string `json:"text"`
			}
			if json.Unmarshal(d, &obj) != nil || obj.Text == nil {
				return nil, errs.BadRequest("documents[%d] must be a string or an object with text", i).WithParam("documents")
			}
			s = *obj.Text
		}
		docs[i] = s
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(raw, &fields)
	req := &adaptor.Request{Mode: adaptor.ModeRerank, Format: adaptor.FormatOpenAI, Model: in.Model, Raw: raw, Fields: fields,
		Query: *in.Query, Documents: docs, Input: docs}
	if in.TopN != nil {
		req.TopN = *in.TopN
	}
	req.PromptText = *in.Query + "\n" + strings.Join(docs, "\n")
	return req, nil
}

// Render implements adaptor.Front. A rerank answer only ever passes
// through (every adaptor that cannot pass one refuses the mode before
// calling upstream), so there is no neutral answer to render.
func (Front) Render(req *adaptor.Request, resp *adaptor.Response) ([]byte, error) {
	return nil, fmt.Errorf("rerank answers pass through; model %s was answered in another format", req.Model)
}

// NewEncoder implements adaptor.Front; rerank is never streamed, and the
// OpenAI encoder is what an erroneous stream would get.
func (Front) NewEncoder(req *adaptor.Request, w *sse.Writer) adaptor.StreamEncoder {
	return openaifront.Front{}.NewEncoder(req, w)
}
