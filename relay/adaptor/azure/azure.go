// Package azure speaks Azure OpenAI upstream (channel type 3): the
// deployment named by the model (after model mapping) in the path, the
// api-version from the channel's `other` field as One API stores it, and
// the key in an api-key header. Bodies, answers and streams are OpenAI's.
package azure

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"switchyard/common/channeltype"
	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/openai"
)

// Adaptor is the Azure OpenAI adaptor. The zero value is ready.
type Adaptor struct{}

// paths are the deployment-relative paths Azure serves by mode; Azure
// has no moderations endpoint.
var paths = map[adaptor.Mode]string{
	adaptor.ModeChat:          "chat/completions",
	adaptor.ModeCompletions:   "completions",
	adaptor.ModeEmbeddings:    "embeddings",
	adaptor.ModeImages:        "images/generations",
	adaptor.ModeImageEdit:     "images/edits",
	adaptor.ModeSpeech:        "audio/speech",
	adaptor.ModeTranscription: "audio/transcriptions",
	adaptor.ModeTranslation:   "audio/translations",
}

// Format implements adaptor.Adaptor: Azure speaks OpenAI's bodies.
func (Adaptor) Format() adaptor.Format { return adaptor.FormatOpenAI }

// Deployment is the deployment a model name addresses. As in One API,
// dots are dropped (Azure's gpt-35-turbo serves gpt-3.5-turbo); a model
// mapping names any other deployment.
func Deployment(model string) string { return strings.ReplaceAll(model, ".", "") }

// URL is the deployment URL of path on up.
func URL(up *adaptor.Upstream, model, path string) string {
	version := up.Other
	if version == "" {
		version = channeltype.AzureAPIVersion
	}
	return strings.TrimRight(up.BaseURL, "/") + "/openai/deployments/" + url.PathEscape(Deployment(model)) + "/" + path + "?api-version=" + url.QueryEscape(version)
}

// NewRequest implements adaptor.Adaptor.
func (Adaptor) NewRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	if req.Format == adaptor.FormatResponses {
		return newResponsesRequest(ctx, up, req)
	}
	path, ok := paths[req.Mode]
	if !ok {
		return nil, adaptor.Unsupported("Azure OpenAI", req.Mode)
	}
	body, contentType, err := openai.Body(req)
	if err != nil {
		return nil, err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, URL(up, req.UpstreamModel, path), body)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("api-key", up.Key)
	if req.Stream {
		r.Header.Set("Accept", "text/event-stream")
	}
	return r, nil
}

// ParseError implements adaptor.Adaptor. Azure's errors are OpenAI's
// shape; its content filter answers 400 with code content_filter (and an
// innererror of ResponsibleAIPolicyViolation), which Classify turns into
// ClassContentFilter: a clear 400, not retried, not held against the
// channel.
func (Adaptor) ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	return openai.Adaptor{}.ParseError(status, h, body)
}

// ParseResponse implements adaptor.Adaptor.
func (Adaptor) ParseResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	return openai.Adaptor{}.ParseResponse(req, body)
}

// NewStream implements adaptor.Adaptor.
func (Adaptor) NewStream(req *adaptor.Request) adaptor.StreamDecoder {
	return openai.Adaptor{}.NewStream(req)
}
