package openai

import (
	"context"
	"net/http"

	"switchyard/relay/adaptor"
)

// ListModels implements adaptor.ModelLister: GET /v1/models under the
// vendor's path, the ids of its "data" (OpenAI's list, and every
// OpenAI-compatible vendor's).
func (Adaptor) ListModels(ctx context.Context, client *http.Client, up *adaptor.Upstream) ([]string, error) {
	return adaptor.ModelPages(func(string) ([]string, string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, VendorURL(up, "/v1/models"), nil)
		if err != nil {
			return nil, "", err
		}
		Authorize(req, up.Vendor, up.Key)
		req = adaptor.ForChannel(req, up)
		var list struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		if err := adaptor.FetchJSON(client, req, Adaptor{}, adaptor.MaxModelList, &list, adaptor.ErrBadModelList); err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(list.Data))
		for _, m := range list.Data {
			ids = append(ids, m.ID)
		}
		return ids, "", nil // one page
	})
}
