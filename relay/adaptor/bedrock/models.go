package bedrock

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"switchyard/relay/adaptor"
)

// ListModels implements adaptor.ModelLister with Bedrock's control plane
// (bedrock.{region}.amazonaws.com, or the channel's base URL when that is
// not AWS's runtime host): ListFoundationModels' active text models that
// can be called on demand, and ListInferenceProfiles' active profiles
// (us.anthropic.…, the ids newer models are called by), paged by
// nextToken. An id ModelIDs names comes back as that name, the one
// clients send; the others as Bedrock ids, which the relay passes on.
func (a *Adaptor) ListModels(ctx context.Context, client *http.Client, up *adaptor.Upstream) ([]string, error) {
	creds, region, err := credentials(up)
	if err != nil {
		return nil, err
	}
	base := controlEndpoint(up.BaseURL, region)
	get := func(path string, q url.Values, dst any) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path+"?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		if req, err = a.sign(ctx, req, creds, region, nil); err != nil {
			return err
		}
		return adaptor.FetchJSON(client, adaptor.ForChannel(req, up), a, adaptor.MaxModelList, dst, adaptor.ErrBadModelList)
	}
	var foundation struct {
		ModelSummaries []struct {
			ModelID                 string   `json:"modelId"`
			InferenceTypesSupported []string `json:"inferenceTypesSupported"`
			ModelLifecycle          struct {
				Status string `json:"status"`
			} `json:"modelLifecycle"`
		} `json:"modelSummaries"`
	}
	if err := get("/foundation-models", url.Values{"byOutputModality": {"TEXT"}}, &foundation); err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range foundation.ModelSummaries {
		if m.ModelLifecycle.Status == "ACTIVE" && slices.Contains(m.InferenceTypesSupported, "ON_DEMAND") {
			ids = append(ids, m.ModelID)
		}
	}
	profiles, err := adaptor.ModelPages(func(cursor string) ([]string, string, error) {
		q := url.Values{"maxResults": {"1000"}}
		if cursor != "" {
			q.Set("nextToken", cursor)
		}
		var page struct {
			Summaries []struct {
				ID     string `json:"inferenceProfileId"`
				Status string `json:"status"`
			} `json:"inferenceProfileSummaries"`
			NextToken string `json:"nextToken"`
		}
		if err := get("/inference-profiles", q, &page); err != nil {
			return nil, "", err
		}
		var active []string
		for _, p := range page.Summaries {
			if p.Status == "ACTIVE" {
				active = append(active, p.ID)
			}
		}
		return active, page.NextToken, nil
	})
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ModelIDs))
	for name, id := range ModelIDs {
		names[id] = name
	}
	out := make([]string, 0, len(ids)+len(profiles))
	for _, id := range append(ids, profiles...) {
		if name, ok := names[id]; ok {
			id = name
		}
		out = append(out, id)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// controlEndpoint is where Bedrock's control plane answers: the region's
// bedrock host when the channel's base is empty or AWS's runtime host,
// else the base itself (a gateway or a test server serving both).
func controlEndpoint(base, region string) string {
	e := endpoint(base, region)
	if rest, ok := strings.CutPrefix(e, "https://bedrock-runtime."); ok && strings.HasSuffix(rest, ".amazonaws.com") {
		return "https://bedrock." + rest
	}
	return e
}
