package azure

import (
	"bytes"
	"context"
	"net/http"
	"strings"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/openai"
)

// Azure serves the Responses API on its v1 surface,
// {endpoint}/openai/v1/responses, which takes no api-version and no
// deployment in the path: the deployment is the body's model, as OpenAI's
// model is. Stored answers live at /openai/v1/responses/{id}.
const responsesPath = "/openai/v1/responses"

// Speaks implements adaptor.Speaker: Responses calls go through as they
// came, the model replaced by the deployment.
func (Adaptor) Speaks(f adaptor.Format) bool { return f == adaptor.FormatResponses }

var (
	_ adaptor.Speaker         = Adaptor{}
	_ adaptor.StoredResponder = Adaptor{}
)

func responsesURL(up *adaptor.Upstream, rest string) string {
	return strings.TrimRight(up.BaseURL, "/") + responsesPath + rest
}

func newResponsesRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	body, err := openai.ResponsesBody(req, Deployment(req.UpstreamModel))
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, responsesURL(up, ""), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("api-key", up.Key)
	if req.Stream {
		r.Header.Set("Accept", "text/event-stream")
	}
	return r, nil
}

// NewStoredRequest implements adaptor.StoredResponder.
func (Adaptor) NewStoredRequest(ctx context.Context, up *adaptor.Upstream, method, id, sub, query string) (*http.Request, error) {
	u := responsesURL(up, adaptor.StoredPath(id, sub))
	if query != "" {
		u += "?" + query
	}
	r, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	r.Header.Set("api-key", up.Key)
	return r, nil
}
