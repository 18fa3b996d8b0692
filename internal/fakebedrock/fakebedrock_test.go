package fakebedrock

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/document"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
)

const claude = "anthropic.claude-3-5-haiku-20241022-v1:0"

func sdk(s *Server, ak, sk string) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{
		Region: s.Region, BaseEndpoint: aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(ak, sk, ""),
		RetryMaxAttempts: 1,
	})
}

// The AWS SDK signs and reads event streams as Bedrock does: a fake it
// talks to is a fake that speaks Bedrock.
func TestFakeSpeaksWhatTheSDKReads(t *testing.T) {
	s := Start("AKIDFAKE", "secret-fake", "us-east-1", Behavior{})
	defer s.Close()
	c := sdk(s, "AKIDFAKE", "secret-fake")
	ctx := context.Background()

	body := `{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`
	out, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(claude), Body: []byte(body), ContentType: aws.String("application/json")})
	if err != nil || !strings.Contains(string(out.Body), "Hello from fake Claude") {
		t.Fatalf("invoke: %v %s", err, out.Body)
	}

	st, err := c.InvokeModelWithResponseStream(ctx, &bedrockruntime.InvokeModelWithResponseStreamInput{ModelId: aws.String(claude), Body: []byte(body), ContentType: aws.String("application/json")})
	if err != nil {
		t.Fatal(err)
	}
	var types_ []string
	for ev := range st.GetStream().Events() {
		chunk := ev.(*types.ResponseStreamMemberChunk)
		var v struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(chunk.Value.Bytes, &v)
		types_ = append(types_, v.Type)
	}
	if st.GetStream().Err() != nil || types_[0] != "message_start" || types_[len(types_)-1] != "message_stop" {
		t.Fatalf("invoke stream: %v %v", st.GetStream().Err(), types_)
	}

	conv, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String("amazon.nova-lite-v1:0"), Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "hi"}}}},
		ToolConfig: &types.ToolConfiguration{Tools: []types.Tool{&types.ToolMemberToolSpec{Value: types.ToolSpecification{Name: aws.String("get_weather"), InputSchema: &types.ToolInputSchemaMemberJson{Value: document.NewLazyDocument(map[string]any{"type": "object"})}}}}}})
	if err != nil || conv.StopReason != types.StopReasonToolUse || *conv.Usage.InputTokens != 9 {
		t.Fatalf("converse: %v %+v", err, conv)
	}

	cs, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String("amazon.nova-lite-v1:0"), Messages: []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "hi"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var outTokens int32
	for ev := range cs.GetStream().Events() {
		switch e := ev.(type) {
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			text.WriteString(e.Value.Delta.(*types.ContentBlockDeltaMemberText).Value)
		case *types.ConverseStreamOutputMemberMetadata:
			outTokens = *e.Value.Usage.OutputTokens
		}
	}
	if cs.GetStream().Err() != nil || text.String() != "Hello from fake Bedrock" || outTokens != 3 {
		t.Fatalf("converse stream: %v %q %d", cs.GetStream().Err(), text.String(), outTokens)
	}
}

func TestFakeRefusesWhatBedrockRefuses(t *testing.T) {
	s := Start("AKIDFAKE", "secret-fake", "us-east-1", Behavior{})
	defer s.Close()
	ctx := context.Background()
	msgs := []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: "hi"}}}}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return "none: " + err.Error()
	}
	if _, err := sdk(s, "AKIDFAKE", "wrong-secret").Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: msgs}); err == nil || code(err) != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := sdk(s, "AKIDOTHER", "secret-fake").Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: msgs}); err == nil || code(err) != "UnrecognizedClientException" {
		t.Fatalf("unknown key: %v", err)
	}
	s.Set(Behavior{FailStatus: 429})
	if _, err := sdk(s, "AKIDFAKE", "secret-fake").Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(claude), Messages: msgs}); err == nil || code(err) != "ThrottlingException" {
		t.Fatalf("throttled: %v", err)
	}
	s.Set(Behavior{})
	body := `{"anthropic_version":"bedrock-2023-05-31","model":"x","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}`
	if _, err := sdk(s, "AKIDFAKE", "secret-fake").InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String(claude), Body: []byte(body)}); err == nil || code(err) != "ValidationException" {
		t.Fatalf("model in the body: %v", err)
	}
}

// The AWS SDK's CountTokens is the judge of the count-tokens wire format:
// an InvokeModel body as a blob in, {"inputTokens"} out; models other than
// Anthropic's, and inference profiles, are refused, as Bedrock refuses
// them.
func TestCountTokensSpeaksWhatTheSDKSends(t *testing.T) {
	s := Start("AKIDFAKE", "secret-fake", "us-east-1", Behavior{})
	defer s.Close()
	c := sdk(s, "AKIDFAKE", "secret-fake")
	ctx := context.Background()
	body := `{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"one two three"}]}`
	out, err := c.CountTokens(ctx, &bedrockruntime.CountTokensInput{ModelId: aws.String(claude),
		Input: &types.CountTokensInputMemberInvokeModel{Value: types.InvokeModelTokensRequest{Body: []byte(body)}}})
	// 3 to prime, 2 words of system, 4 for the message and its 3 words.
	if err != nil || aws.ToInt32(out.InputTokens) != 12 {
		t.Fatalf("count: %v %+v", err, out)
	}
	var apiErr smithy.APIError
	for _, id := range []string{"amazon.nova-lite-v1:0", "us." + claude} {
		_, err = c.CountTokens(ctx, &bedrockruntime.CountTokensInput{ModelId: aws.String(id),
			Input: &types.CountTokensInputMemberInvokeModel{Value: types.InvokeModelTokensRequest{Body: []byte(body)}}})
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
			t.Fatalf("%s: %v", id, err)
		}
	}
	_, err = c.CountTokens(ctx, &bedrockruntime.CountTokensInput{ModelId: aws.String(claude),
		Input: &types.CountTokensInputMemberInvokeModel{Value: types.InvokeModelTokensRequest{Body: []byte(`{"messages":[]}`)}}})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ValidationException" {
		t.Fatalf("a body that is not an InvokeModel body: %v", err)
	}
}
