package gemini

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"switchyard/relay/adaptor"
)

// ListModels implements adaptor.ModelLister: the Gemini API's
// GET /v1beta/models, paged by pageToken, each name without its
// "models/" prefix (what a channel's model list and a client name).
func (Adaptor) ListModels(ctx context.Context, client *http.Client, up *adaptor.Upstream) ([]string, error) {
	return adaptor.ModelPages(func(cursor string) ([]string, string, error) {
		q := url.Values{"pageSize": {"1000"}}
		if cursor != "" {
			q.Set("pageToken", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiBase(up)+"/v1beta/models?"+q.Encode(), nil)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("x-goog-api-key", up.Key)
		req = adaptor.ForChannel(req, up)
		var page struct {
			Models []struct {
				Name string `json:"name"`
			} `json:"models"`
			NextPageToken string `json:"nextPageToken"`
		}
		if err := adaptor.FetchJSON(client, req, Adaptor{}, adaptor.MaxModelList, &page, adaptor.ErrBadModelList); err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(page.Models))
		for _, m := range page.Models {
			ids = append(ids, strings.TrimPrefix(m.Name, "models/"))
		}
		return ids, page.NextPageToken, nil
	})
}
