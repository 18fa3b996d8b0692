// Package bedrock speaks Amazon Bedrock's runtime (channel type 33):
// Claude through InvokeModel and InvokeModelWithResponseStream with
// Anthropic's own body (anthropic_version bedrock-2023-05-31, as One API
// sends it), every other model through Converse and ConverseStream. Calls
// are signed with SigV4 by aws-sdk-go-v2's signer from the channel
// config's ak, sk and region (as One API stores them); streams are read
// with the SDK's eventstream decoder.
//
// The adaptor converts every call (Format is FormatNeutral: no client
// body passes through), because a Bedrock body is never a client's body:
// Claude's wants Anthropic's body without model and stream and with its
// own anthropic_version, and Converse is Amazon's own shape.
package bedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"switchyard/relay/adaptor"
	"switchyard/relay/adaptor/anthropic"
)

// Config keys a Bedrock channel reads, One API's names.
const (
	ConfigAccessKey = "ak"
	ConfigSecretKey = "sk"
	ConfigRegion    = "region"
)

// signingName is Bedrock's SigV4 service name.
const signingName = "bedrock"

// ModelIDs maps Anthropic's model names to Bedrock's model ids, as One API
// does, so a client may ask for "claude-3-5-haiku-20241022" on a Bedrock
// channel. Other names (Bedrock ids, inference profiles such as
// "us.anthropic.claude-sonnet-4-20250514-v1:0") are sent as they are;
// channel model mapping covers the rest.
var ModelIDs = map[string]string{
	"claude-instant-1.2":         "anthropic.claude-instant-v1",
	"claude-2.0":                 "anthropic.claude-v2",
	"claude-2.1":                 "anthropic.claude-v2:1",
	"claude-3-haiku-20240307":    "anthropic.claude-3-haiku-20240307-v1:0",
	"claude-3-sonnet-20240229":   "anthropic.claude-3-sonnet-20240229-v1:0",
	"claude-3-opus-20240229":     "anthropic.claude-3-opus-20240229-v1:0",
	"claude-3-5-sonnet-20240620": "anthropic.claude-3-5-sonnet-20240620-v1:0",
	"claude-3-5-sonnet-20241022": "anthropic.claude-3-5-sonnet-20241022-v2:0",
	"claude-3-5-haiku-20241022":  "anthropic.claude-3-5-haiku-20241022-v1:0",
	"claude-3-7-sonnet-20250219": "anthropic.claude-3-7-sonnet-20250219-v1:0",
	"claude-sonnet-4-20250514":   "anthropic.claude-sonnet-4-20250514-v1:0",
	"claude-opus-4-20250514":     "anthropic.claude-opus-4-20250514-v1:0",
	"claude-opus-4-1-20250805":   "anthropic.claude-opus-4-1-20250805-v1:0",
	"claude-sonnet-4-5-20250929": "anthropic.claude-sonnet-4-5-20250929-v1:0",
	"claude-haiku-4-5-20251001":  "anthropic.claude-haiku-4-5-20251001-v1:0",
}

// ModelID is the Bedrock model id for a model name.
func ModelID(model string) string {
	if id, ok := ModelIDs[model]; ok {
		return id
	}
	return model
}

// Adaptor is the Bedrock runtime upstream.
type Adaptor struct {
	// now is the signing clock; nil is time.Now.
	now func() time.Time
}

// New returns a Bedrock adaptor.
func New() *Adaptor { return &Adaptor{} }

// Format is FormatNeutral: Bedrock bodies are always converted.
func (*Adaptor) Format() adaptor.Format { return adaptor.FormatNeutral }

// credentials reads ak, sk and region; a channel missing one cannot sign.
func credentials(up *adaptor.Upstream) (aws.Credentials, string, error) {
	ak, sk, region := up.Config[ConfigAccessKey], up.Config[ConfigSecretKey], up.Config[ConfigRegion]
	if ak == "" || sk == "" || region == "" {
		return aws.Credentials{}, "", &adaptor.UpstreamError{Status: http.StatusUnauthorized, Class: adaptor.ClassAuth, Code: "channel_misconfigured",
			Message: "the Bedrock channel's config needs ak, sk and region"}
	}
	return aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk, Source: "switchyard channel config"}, region, nil
}

// NewRequest builds and signs the InvokeModel (Claude) or Converse call.
func (a *Adaptor) NewRequest(ctx context.Context, up *adaptor.Upstream, req *adaptor.Request) (*http.Request, error) {
	if (req.Mode != adaptor.ModeChat && req.Mode != adaptor.ModeCompletions) || req.Chat == nil {
		return nil, adaptor.Unsupported("Bedrock", req.Mode)
	}
	creds, region, err := credentials(up)
	if err != nil {
		return nil, err
	}
	id := ModelID(req.UpstreamModel)
	var body []byte
	var op string
	if IsClaude(id) {
		op = "invoke"
		if req.Stream {
			op = "invoke-with-response-stream"
		}
		body, err = invokeBody(req)
	} else {
		op = "converse"
		if req.Stream {
			op = "converse-stream"
		}
		var q *ConverseRequest
		if q, err = ToConverse(req.Chat, false); err == nil {
			body, err = json.Marshal(q)
		}
	}
	if err != nil {
		return nil, err
	}
	return a.signed(ctx, up.BaseURL, creds, region, id, op, body, req.Stream)
}

// signed is the SigV4-signed POST of body to operation op on model id.
func (a *Adaptor) signed(ctx context.Context, base string, creds aws.Credentials, region, id, op string, body []byte, stream bool) (*http.Request, error) {
	u, err := url.Parse(endpoint(base, region))
	if err != nil {
		return nil, fmt.Errorf("bedrock base URL: %w", err)
	}
	// The model id goes in the path escaped as the AWS SDK escapes it
	// (":" as %3A); SigV4 signs that escaped form.
	prefix, rawPrefix := strings.TrimRight(u.Path, "/"), strings.TrimRight(u.EscapedPath(), "/")
	u.Path = prefix + "/model/" + id + "/" + op
	u.RawPath = rawPrefix + "/model/" + escapeSegment(id) + "/" + op
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	if stream {
		hr.Header.Set("Accept", "application/vnd.amazon.eventstream")
	} else {
		hr.Header.Set("Accept", "application/json")
	}
	return a.sign(ctx, hr, creds, region, body)
}

// sign signs hr, whose body is body, with SigV4 for Bedrock in region.
func (a *Adaptor) sign(ctx context.Context, hr *http.Request, creds aws.Credentials, region string, body []byte) (*http.Request, error) {
	sum := sha256.Sum256(body)
	now := time.Now
	if a.now != nil {
		now = a.now
	}
	// A signer per call: the SDK's signer caches the derived signing key
	// by service, region, access key and day, not by secret, so one
	// shared signer would keep signing with a corrected channel's old
	// secret until midnight (TestConverseSignedAndParsed's wrong secret
	// found it). Deriving the key is four HMACs.
	if err := v4.NewSigner().SignHTTP(ctx, creds, hr, hex.EncodeToString(sum[:]), signingName, region, now()); err != nil {
		return nil, fmt.Errorf("bedrock: sign: %w", err)
	}
	return hr, nil
}

// endpoint is the channel's base URL, or its region's runtime endpoint
// when the base is empty or AWS's own (the registry's default names
// us-east-1; the config's region decides).
func endpoint(base, region string) string {
	base = strings.TrimRight(base, "/")
	if u, err := url.Parse(base); base == "" || err == nil && strings.HasPrefix(u.Host, "bedrock-runtime.") && strings.HasSuffix(u.Host, ".amazonaws.com") {
		return "https://bedrock-runtime." + region + ".amazonaws.com"
	}
	return base
}

// escapeSegment escapes a path segment as the AWS SDK's httpbinding does:
// everything but unreserved characters.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// ParseError classifies a non-2xx reply through Bedrock's error table.
func (*Adaptor) ParseError(status int, h http.Header, body []byte) *adaptor.UpstreamError {
	return ParseError(status, h, body)
}

// ParseResponse decodes Converse's whole answer.
func (*Adaptor) ParseResponse(req *adaptor.Request, body []byte) (*adaptor.Response, error) {
	if IsClaude(ModelID(req.UpstreamModel)) {
		return invokeResponse(body)
	}
	var r ConverseResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("converse answer: %w", err)
	}
	out, err := FromConverse(&r)
	if err != nil {
		return nil, err
	}
	out.Model = req.Model
	return out, nil
}

// NewStream returns the ConverseStream decoder of one call.
func (*Adaptor) NewStream(req *adaptor.Request) adaptor.StreamDecoder {
	if req != nil && IsClaude(ModelID(req.UpstreamModel)) {
		return &invokeDecoder{inner: anthropic.Adaptor{}.NewStream(req)}
	}
	return &converseDecoder{}
}

// NewFrameReader reads Bedrock's AWS event stream.
func (*Adaptor) NewFrameReader(body io.Reader) adaptor.Frames { return NewFrames(body) }

var _ adaptor.FrameReader = (*Adaptor)(nil)
