package adaptor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
)

// ModelLister is an adaptor that can ask its provider which models a key
// may use: the console fills a channel's model list from it
// (GET /api/channel/fetch_models/:id). client never follows redirects. A
// non-2xx reply comes back as a classified *UpstreamError.
type ModelLister interface {
	ListModels(ctx context.Context, client *http.Client, up *Upstream) ([]string, error)
}

// ErrBadModelList means a model list was not the JSON expected.
var ErrBadModelList = errors.New("the upstream's model list is not JSON this relay understands")

// maxModelPages bounds how many pages of a paged model list are read.
const maxModelPages = 20

// MaxModelList caps the bytes of one page of a model list (OpenRouter's
// whole list, with descriptions, is a few hundred KiB).
const MaxModelList = 8 << 20

// FetchJSON sends req with client and decodes a 2xx reply of at most
// limit bytes into dst; a non-2xx reply is ad's classified error, and a
// reply that does not decode is bad.
func FetchJSON(client *http.Client, req *http.Request, ad Adaptor, limit int64, dst any, bad error) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return ad.ParseError(resp.StatusCode, resp.Header, body)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return bad
	}
	return nil
}

// ModelPages reads a paged model list: page fetches one page after the
// cursor ("" for the first) and returns its ids and the next cursor (""
// at the end). The ids come back sorted, each once.
func ModelPages(page func(cursor string) (ids []string, next string, err error)) ([]string, error) {
	var all []string
	cursor := ""
	for range maxModelPages {
		ids, next, err := page(cursor)
		if err != nil {
			return nil, err
		}
		all = append(all, ids...)
		if next == "" || next == cursor {
			break
		}
		cursor = next
	}
	all = slices.DeleteFunc(all, func(s string) bool { return s == "" })
	slices.Sort(all)
	return slices.Compact(all), nil
}
