package anthropic

import (
	"context"
	"net/http"
	"net/url"

	"switchyard/relay/adaptor"
)

// ListModels implements adaptor.ModelLister: Anthropic's GET /v1/models,
// paged by after_id while has_more is set.
func (Adaptor) ListModels(ctx context.Context, client *http.Client, up *adaptor.Upstream) ([]string, error) {
	return adaptor.ModelPages(func(cursor string) ([]string, string, error) {
		q := url.Values{"limit": {"1000"}}
		if cursor != "" {
			q.Set("after_id", cursor)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, URL(up.BaseURL, "/v1/models")+"?"+q.Encode(), nil)
		if err != nil {
			return nil, "", err
		}
		req.Header.Set("x-api-key", up.Key)
		req.Header.Set("anthropic-version", Version)
		req = adaptor.ForChannel(req, up)
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			HasMore bool   `json:"has_more"`
			LastID  string `json:"last_id"`
		}
		if err := adaptor.FetchJSON(client, req, Adaptor{}, adaptor.MaxModelList, &page, adaptor.ErrBadModelList); err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(page.Data))
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		next := ""
		if page.HasMore {
			next = page.LastID
		}
		return ids, next, nil
	})
}
